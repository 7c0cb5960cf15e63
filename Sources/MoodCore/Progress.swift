import Foundation

/// A progress bar for long work: count, rate and ETA, on standard error.
///
/// On a terminal it redraws one line at most ten times a second; elsewhere (CI
/// logs, pipes) it prints a plain line at every tenth of the way, so logs stay short.
/// Thread-safe: workers call `advance()` from any thread.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let start = Date()
    private let lock = NSLock()
    private var done = 0
    private var lastDraw = Date.distantPast
    private var lastTenth = -1
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let enabled: Bool

    public init(_ label: String, total: Int, enabled: Bool = true) {
        self.label = label
        self.total = max(total, 0)
        self.enabled = enabled && total > 0
    }

    public func advance(by count: Int = 1) {
        lock.lock(); defer { lock.unlock() }
        done += count
        guard enabled else { return }
        let now = Date()
        if isTerminal {
            if now.timeIntervalSince(lastDraw) >= 0.1 || done == total {
                lastDraw = now
                FileHandle.standardError.write(Data(("\r" + line(now: now)).utf8))
            }
        } else {
            let tenth = total > 0 ? done * 10 / total : 10
            if tenth > lastTenth {
                lastTenth = tenth; FileHandle.standardError.write(Data((line(now: now) + "\n").utf8))
            }
        }
    }

    /// Ends the bar's line; call once when the work stops (finished or interrupted).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard enabled else { return }
        if isTerminal { FileHandle.standardError.write(Data(("\r" + line(now: Date()) + "\n").utf8)) }
    }

    private func line(now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        return "\(label) [\(bar)] \(done)/\(total) \(String(format: "%.1f", rate))/s ETA \(Self.clock(eta))"
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }
}
