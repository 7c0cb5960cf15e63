import ArgumentParser
import Foundation
import MoodCore
import MoodNotebook

/// The command behind each chapter's own executable, e.g. `ch3-segments --quick --seed 7`:
/// the same arguments as `mooddex run <name>`, parsed and checked the same way.
public struct ExperimentCommand<Chapter: Experiment>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Chapter.name,
            abstract: "\(Chapter.title) (thesis \(Chapter.thesisSection)): writes its report and figures.")
    }

    @OptionGroup public var arguments: RunArguments

    public init() {}

    public func run() throws {
        Interrupt.install()
        switch ExperimentRunner.run(Chapter.self, options: arguments.options) {
        case .written(let metrics, let seconds):
            print(
                String(
                    format: "\(Chapter.name): wrote \(arguments.reportPath(Chapter.name)) (%d metrics, %.1f s)",
                    metrics, seconds))
        case .skipped(let reason):
            print("\(Chapter.name): skipped: \(reason)")
        case .failed(let message):
            FileHandle.standardError.write(Data("\(Chapter.name): failed: \(message)\n".utf8))
            throw ExitCode(1)
        case .interrupted:
            FileHandle.standardError.write(Data("\(Chapter.name): \(ExperimentRunner.interruptedNote)\n".utf8))
            throw ExitCode(130)
        }
        if Interrupt.requested { throw ExitCode(130) }
    }
}
