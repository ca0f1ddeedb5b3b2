#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Asks the kernel to read the pages under `bytes` (a key or value in an environment's memory
/// map) in the background (`MADV_WILLNEED`), and returns at once.
///
/// Environments are opened with `MDB_NORDAHEAD`, right for lookups by key; but a reader that
/// walks a log block after block then waits for each 4 KiB page of a block that is not in the
/// page cache (a store at rest, whose pages the kernel has reclaimed) in turn. Prefetching the
/// next block while decoding this one turns those waits into one read per block, overlapped.
/// Harmless when the pages are cached; errors are ignored (it is only advice).
public func prefetch(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    let page = UInt(pageSize)
    let start = UInt(bitPattern: base) & ~(page - 1)
    let end = UInt(bitPattern: base) + UInt(bytes.count)
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), MADV_WILLNEED)
}

private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
