import Foundation
import MoodCore

/// Runs experiments: checks their data, tells their story into a notebook, writes the report.
public enum ExperimentRunner {
    public enum Outcome: Sendable {
        case written(metrics: Int, seconds: Double)
        case skipped(reason: String)
        case failed(String)
        /// Stopped on request (Ctrl-C): no report written.
        case interrupted
    }

    /// What the command line says after an ``Outcome/interrupted`` run.
    public static let interruptedNote =
        "interrupted: the report was not written (figures drawn before the stop may be new); computed caches are kept"

    public static func run(_ experiment: Experiment.Type, options: RunOptions) -> Outcome {
        let missing = experiment.requirements.filter {
            !$0.isPresent(in: options.dataRoot, cache: options.cacheDirectory)
        }
        if !missing.isEmpty {
            return .skipped(
                reason: missing.map {
                    "\($0.location(root: options.dataRoot, cache: options.cacheDirectory).path) not found: \($0.howToGet)"
                }
                .joined(separator: "; "))
        }
        let start = Date()
        let notebook = Notebook(experiment, options: options)
        do {
            try experiment.run(notebook)
            // A stop some step swallowed (e.g. classifying files turns it into per-file errors)
            // must not leave a report of half-computed numbers.
            if Interrupt.requested { return .interrupted }
            try notebook.write()
            return .written(metrics: notebook.metrics.count, seconds: Date().timeIntervalSince(start))
        } catch is CancellationError {
            return .interrupted
        } catch {
            return .failed("\(error)")
        }
    }
}
