import Foundation
import MoodCore
import MoodSpectrogram

/// Per-clip work on several workers: each worker has its own network (run on one thread, so
/// no two pools fight for the cores) and its own log-mel computer; clips are handed out in
/// order. The first error stops the others unless `keepGoing`; Ctrl-C stops between clips.
enum ClipWorkers {
    /// Results by clip index (nil only for clips never reached after an error or an interrupt).
    static func run<R>(
        _ count: Int, networks: [MusicnnNetwork], label: String, progress: Bool, keepGoing: Bool,
        _ body: (Int, MusicnnNetwork, LogMelSpectrogram) throws -> R
    ) throws -> [Result<R, Error>?] {
        for net in networks { net.network.setThreads(1) }
        return try run(count, workers: networks.count, label: label, progress: progress, keepGoing: keepGoing) {
            i, w, computer in try body(i, networks[w], computer)
        }
    }

    /// The same on `workers` workers without networks; `body` gets the clip and the worker's index.
    static func run<R>(
        _ count: Int, workers: Int, label: String, progress: Bool, keepGoing: Bool,
        _ body: (Int, Int, LogMelSpectrogram) throws -> R
    ) throws -> [Result<R, Error>?] {
        var results = [Result<R, Error>?](repeating: nil, count: count)
        let lock = NSLock()
        var next = 0, failure: Error?
        let bar = ProgressBar(label, total: count, enabled: progress)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            guard let computer = try? LogMelSpectrogram(MusicnnInput.parameters) else { return }
            while true {
                lock.lock()
                let i = next; next += 1
                let stop = failure != nil || Interrupt.requested
                lock.unlock()
                guard i < count, !stop else { return }
                let result = Result { try body(i, w, computer) }
                lock.lock()
                results[i] = result
                if case .failure(let error) = result, !keepGoing { failure = failure ?? error }
                lock.unlock()
                bar.advance()
            }
        }
        bar.finish()
        if let failure { throw failure }
        if Interrupt.requested { throw CancellationError() }
        return results
    }
}
