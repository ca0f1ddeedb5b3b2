import Dispatch
import LogbookZstd
import Synchronization

/// A tenant's zstd dictionary, trained off the commit path.
///
/// Training took 4–28 ms per tenant (7 ms median on the standard workload), all of it inside
/// the commit that crossed the threshold: at half the HTTP benchmark's load that was one
/// request in twenty held up, enough to set the p99. Now that commit only gathers the samples
/// (events already in the log); a background queue trains on them, and the first commit after
/// that stores the dictionary and compresses with it.
final class DictionaryTraining: Sendable {
    enum Outcome: Sendable {
        case trained(bytes: [UInt8], dictionary: ZstdDictionary)
        /// Too little or too uniform data.
        case failed
    }

    /// What the last training produced, until a commit takes it.
    private let outcome = Mutex<Outcome?>(nil)

    /// One queue for the process: trainings run one at a time, beside the commits rather
    /// than in them.
    private static let queue = DispatchQueue(label: "logbook.dictionary-training")

    /// Trains on `samples` (concatenated, with their `sizes`) in the background.
    func start(samples: [UInt8], sizes: [Int], capacity: Int, level: Int32) {
        DictionaryTraining.queue.async { [self] in
            let result: Outcome
            if let bytes = try? ZstdDictionary.train(buffer: samples, sizes: sizes, capacity: capacity, level: level),
                let dictionary = try? ZstdDictionary(bytes: bytes, level: level), dictionary.id != 0
            {
                result = .trained(bytes: bytes, dictionary: dictionary)
            } else {
                result = .failed
            }
            self.outcome.withLock { $0 = result }
        }
    }

    /// The finished training's outcome, if any; it stays until `clear()`.
    func peek() -> Outcome? { outcome.withLock { $0 } }

    func clear() { outcome.withLock { $0 = nil } }
}
