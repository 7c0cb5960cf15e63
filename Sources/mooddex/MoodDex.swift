import ArgumentParser
import Foundation
import MoodCommandLine
import MoodCore

@main
struct MoodDex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mooddex",
        abstract: "Songs into moods: reproduce, check and extend the 2022 thesis's experiments.",
        discussion: """
            Data is read from the data root: --data-root, else $MOODDEX_DATA_ROOT, else ../shared/data.
            Caches go to $MOODDEX_CACHE_DIR, else $XDG_CACHE_HOME/mooddex, else ~/.cache/mooddex.
            """,
        version: "0.4.0",
        subcommands: [
            ListCommand.self, RunCommand.self, CheckCommand.self, FetchCommand.self, TrainCommand.self,
            ClassifyCommand.self, FilterCommand.self, TagCommand.self, InfoCommand.self, SpectrogramCommand.self,
            FeaturesCommand.self, BenchCommand.self,
        ])

    /// Every error on one line starting `mooddex: `, as warnings do. Usage errors keep the
    /// subcommand's usage below; an error from a command's work (a bad file, a bad `--mood`)
    /// is not a usage error, so no usage (and never the top-level one) follows it.
    static func main() {
        let command: ParsableCommand
        do { command = try parseAsRoot() } catch { fail(error) }
        do {
            var running = command
            try running.run()
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ValidationError {
            warn("mooddex: \(error)")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            fail(error)
        }
    }

    /// Parse errors, help and version requests, in the `mooddex: ` style.
    static func fail(_ error: Error) -> Never {
        let code = exitCode(for: error)
        guard code != .success else { exit(withError: error) }
        var text = fullMessage(for: error)
        if text.hasPrefix("Error: ") { text = "mooddex: " + text.dropFirst("Error: ".count) }
        warn(text)
        Foundation.exit(code.rawValue)
    }
}

/// The data-root and cache options, shared with the per-chapter executables.
typealias DataOptions = MoodCommandLine.DataOptions

/// A usage error unless `value` (the option `flag`'s) is at least 1.
func requireAtLeastOne(_ value: Int, _ flag: String) throws {
    guard value >= 1 else { throw ValidationError("\(flag) \(value): must be at least 1") }
}

/// Writes to standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
