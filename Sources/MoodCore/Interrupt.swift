import Foundation

/// Safe interruption of long work by Ctrl-C (SIGINT) or SIGTERM.
///
/// `Interrupt.install()` replaces the default "die at once" with a flag that long
/// loops poll through `Interrupt.requested`; they stop between items, and since
/// every write is atomic, what was finished stays valid and a rerun resumes.
/// A second signal exits immediately.
public enum Interrupt {
    nonisolated(unsafe) fileprivate static var flag: sig_atomic_t = 0

    public static var requested: Bool { flag != 0 }

    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if Interrupt.flag != 0 { _exit(130) }
            Interrupt.flag = 1
            let message = "\ninterrupted: finishing the current item; press Ctrl-C again to stop at once\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}

extension Interrupt {
    /// Acts as if Ctrl-C had been pressed (for tests of interrupted runs).
    public static func simulate() { flag = 1 }
    /// Clears a request (for tests).
    public static func reset() { flag = 0 }
}
