/// Splits an NDJSON buffer into lines without copying; a trailing "\r" is stripped; empty/whitespace-only lines
/// are reported so the caller can skip them.
///
/// Each line is a view into the caller's buffer, ready for `JSONParser.parse(_:limits:)`,
/// so an ingest loop touches every byte only to find newlines and to parse. Lines are numbered from 1, so
/// rejections can name the line the way an editor does. Empty and whitespace-only lines are reported rather than
/// dropped, so that line numbers stay true and the caller decides whether blank lines are an error.
/// A final line without a newline is reported; a newline at the very end does not start another line.
///
/// ```swift
/// for line in NDJSONLines(buffer) {
///     let event = try JSONParser.parse(line.bytes)
/// }
/// ```
///
/// The lines point into the buffer, so they are valid only while it is.
public struct NDJSONLines: Sequence {
    /// A line: its number, counting from 1, and its bytes without the newline or a trailing carriage return.
    public typealias Element = (lineNumber: Int, bytes: UnsafeRawBufferPointer)

    private let buffer: UnsafeRawBufferPointer

    /// Creates a view of the lines in `buffer`.
    ///
    /// - Parameter buffer: NDJSON bytes; they must stay valid while the lines are used.
    public init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    /// Returns an iterator over the lines, first to last.
    public func makeIterator() -> Iterator {
        Iterator(buffer: buffer)
    }

    /// Walks the buffer one line at a time.
    public struct Iterator: IteratorProtocol {
        private let buffer: UnsafeRawBufferPointer
        private var offset = 0
        private var lineNumber = 0

        fileprivate init(buffer: UnsafeRawBufferPointer) {
            self.buffer = buffer
        }

        /// Returns the next line, or `nil` after the last one.
        ///
        /// - Complexity: O(*n*) in the line's length; newlines are searched for eight bytes at a time.
        public mutating func next() -> Element? {
            guard offset < buffer.count, let base = buffer.baseAddress else {
                return nil
            }
            let start = offset
            let newline = Self.firstNewline(in: base, from: start, to: buffer.count)
            offset = newline + 1
            lineNumber += 1
            var end = newline
            if end > start, base.load(fromByteOffset: end - 1, as: UInt8.self) == ASCII.carriageReturn {
                end -= 1
            }
            return (lineNumber, UnsafeRawBufferPointer(start: base + start, count: end - start))
        }

        /// The offset of the first `\n` at or after `start`, or `end` when there is none.
        private static func firstNewline(in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
            var index = start
            while index + 8 <= end {
                let newlines = ByteScanning.equalMask(ByteScanning.load(base, index), ASCII.newline)
                if newlines != 0 {
                    return index + newlines.trailingZeroBitCount >> 3
                }
                index += 8
            }
            while index < end, base.load(fromByteOffset: index, as: UInt8.self) != ASCII.newline {
                index += 1
            }
            return index
        }
    }
}

/// Lines borrow memory the sequence does not own; sending them to another task could let them outlive the
/// buffer (typically the scope of a `withUnsafeBytes` call), so they stay on the thread that made them.
@available(*, unavailable)
extension NDJSONLines: Sendable {}

@available(*, unavailable)
extension NDJSONLines.Iterator: Sendable {}
