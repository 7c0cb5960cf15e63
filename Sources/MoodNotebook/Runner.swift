import Foundation
import MoodCore

/// Runs experiments: checks their data, tells their story into a notebook, writes the report.
public enum ExperimentRunner {
    public enum Outcome: Sendable {
        case written(metrics: Int, seconds: Double)
        case skipped(reason: String)
        case failed(String)
    }

    public static func run(_ experiment: Experiment.Type, options: RunOptions) -> Outcome {
        let missing = experiment.requirements.filter { !$0.isPresent(in: options.dataRoot, cache: options.cacheDirectory) }
        if !missing.isEmpty {
            return .skipped(reason: missing.map { "\($0.location(root: options.dataRoot, cache: options.cacheDirectory).path) not found: \($0.howToGet)" }
                .joined(separator: "; "))
        }
        let start = Date()
        let notebook = Notebook(experiment, options: options)
        do {
            try experiment.run(notebook)
            try notebook.write()
            return .written(metrics: notebook.metrics.count, seconds: Date().timeIntervalSince(start))
        } catch {
            return .failed("\(error)")
        }
    }

    /// The entry point of each experiment's own executable:
    /// `ch3-keras-comparison [--quick] [--seed N] [--data-root PATH]`.
    public static func main(_ experiment: Experiment.Type) -> Never {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var quick = false, seed: UInt64 = 2022, root: String? = nil
        while !arguments.isEmpty {
            let a = arguments.removeFirst()
            switch a {
            case "--quick": quick = true
            case "--seed": seed = arguments.isEmpty ? seed : UInt64(arguments.removeFirst()) ?? seed
            case "--data-root": root = arguments.isEmpty ? nil : arguments.removeFirst()
            default:
                FileHandle.standardError.write(Data("usage: \(experiment.name) [--quick] [--seed N] [--data-root PATH]\n".utf8))
                exit(2)
            }
        }
        Interrupt.install()
        let options = RunOptions(quick: quick, seed: seed, dataRoot: Locations.dataRoot(flag: root), cacheDirectory: Locations.cacheDirectory())
        switch run(experiment, options: options) {
        case .written(let metrics, let seconds):
            print(String(format: "\(experiment.name): wrote reports/\(experiment.name)\(quick ? ".quick" : "").md (%d metrics, %.1f s)", metrics, seconds))
            exit(0)
        case .skipped(let reason):
            print("\(experiment.name): skipped: \(reason)")
            exit(0)
        case .failed(let message):
            FileHandle.standardError.write(Data("\(experiment.name): failed: \(message)\n".utf8))
            exit(1)
        }
    }
}
