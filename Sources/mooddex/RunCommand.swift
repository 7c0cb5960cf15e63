import ArgumentParser
import Foundation
import MoodAudio
import MoodCommandLine
import MoodCore
import MoodExperiments
import MoodNotebook
import MoodSpectrogram

/// Runs experiments (and the audio front end job) and writes their reports and figures.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run experiments by name, or all of them, writing reports/ and figures/.",
        discussion: "An experiment whose data is missing is skipped with a note saying how to get it.")

    @Argument(help: "Experiment names (see `mooddex list`), `frontend`, or `all`.") var names: [String] = ["all"]
    @OptionGroup var arguments: RunArguments

    func validate() throws {
        let known = ["all", "frontend"] + Catalog.experiments.map { $0.name }
        for name in names where !known.contains(name) {
            throw ValidationError(
                "unknown experiment '\(name)'; known: frontend, \(Catalog.experiments.map { $0.name }.joined(separator: ", "))"
            )
        }
    }

    func run() throws {
        Interrupt.install()
        var selected = [String]()
        for name in names {
            if name == "all" {
                selected += ["frontend"] + Catalog.experiments.map { $0.name }
            } else {
                selected.append(name)
            }
        }
        let options = arguments.options
        let quick = arguments.quick
        var failures = 0
        runs: for name in selected {
            if Interrupt.requested { break }
            if name == "frontend" {
                do { try FrontendJob(options: options).run() } catch is CancellationError {
                    warn("frontend: interrupted"); break runs
                } catch {
                    warn("frontend: failed: \(error)"); failures += 1
                }
                continue
            }
            let experiment = Catalog.find(name)!
            print("\(name): running\(quick ? " (quick)" : "")")
            switch ExperimentRunner.run(experiment, options: options) {
            case .written(let metrics, let seconds):
                print(
                    String(format: "\(name): wrote \(arguments.reportPath(name)), %d metrics, %.1f s", metrics, seconds)
                )
            case .skipped(let reason):
                print("\(name): skipped: \(reason)")
            case .failed(let message):
                warn("\(name): failed: \(message)")
                failures += 1
            case .interrupted:
                warn("\(name): \(ExperimentRunner.interruptedNote)")
                break runs
            }
        }
        if !quick {
            try ReportsIndex.write(
                reports: options.reports, expectations: URL(fileURLWithPath: "experiments/expectations.json"))
        }
        if Interrupt.requested { throw ExitCode(130) }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// The audio front end: every 4Q clip through decoding and the log-mel cache, and the thesis's
/// spectrogram figures (7 and 20) for one clip per quadrant. Without the 4Q data it runs on its
/// embedded default, a synthetic signal of tones and a chirp.
struct FrontendJob {
    let options: RunOptions

    func run() throws {
        let fourQ = options.dataRoot.appendingPathComponent("4q")
        let figureFolder = options.figures
        let parameters = SpectrogramParameters()
        guard FileManager.default.fileExists(atPath: fourQ.appendingPathComponent("metadata.csv").path) else {
            print(
                "frontend: 4Q clips not found under \(options.dataRoot.path) (set --data-root or MOODDEX_DATA_ROOT; see README, Data)"
            )
            print("frontend: running on the embedded default, a synthetic 30 s signal")
            let samples = SyntheticSignal.tonesAndChirp(seconds: 30, sampleRate: parameters.sampleRate)
            let spectrogram = try LogMelSpectrogram(parameters)(samples)
            let output = figureFolder.appendingPathComponent("frontend-synthetic.png")
            try SpectrogramPicture.figure(
                spectrogram, parameters: parameters, title: "synthetic: 440 Hz, a chirp, a 5 kHz tremolo"
            )
            .render(to: output)
            print("frontend: wrote \(output.path)")
            return
        }
        let paths = try FeatureCache.audioFiles(in: fourQ.path)
        let cache = try FeatureCache(
            directory: options.cacheDirectory.appendingPathComponent("features"),
            recipe: FeatureRecipe(parameters: parameters))
        let report = cache.build(paths, progress: options.showProgress)
        print(
            String(
                format: "frontend: %d clips, %d computed, %d cached already, %d failed, %.1f s",
                paths.count, report.computed, report.reused, report.failures.count, report.seconds))
        for failure in report.failures { warn("mooddex: \(failure)") }
        if report.interrupted { throw CancellationError() }
        for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
            guard let clip = paths.first(where: { $0.contains("/\(quadrant)/") }) else { continue }
            for (label, segment) in [("first", Segment.first(seconds: 30)), ("middle", Segment.middle(seconds: 10))] {
                let audio = try AudioFile.decode(clip, segment: segment)
                let spectrogram = try LogMelSpectrogram(parameters)(audio)
                let output = figureFolder.appendingPathComponent("frontend-\(quadrant.lowercased())-\(label).png")
                try SpectrogramPicture.figure(
                    spectrogram, parameters: parameters,
                    title: "\(quadrant): \(URL(fileURLWithPath: clip).lastPathComponent), \(segment)"
                )
                .render(to: output)
            }
        }
        print("frontend: wrote figures/frontend-q*-first.png and -middle.png")
        if !report.failures.isEmpty { throw InputError(fourQ.path, "\(report.failures.count) clips failed") }
    }
}

/// The embedded default input: 440 Hz, a chirp rising from 200 Hz, and a 5 kHz tremolo
/// (the same recipe as the tests' signal, stretched to any length).
enum SyntheticSignal {
    static func tonesAndChirp(seconds: Double, sampleRate: Int) -> [Float] {
        (0..<Int(seconds * Double(sampleRate))).map { i in
            let t = Double(i) / Double(sampleRate)
            let chirpTime = t.truncatingRemainder(dividingBy: 3)  // restart the chirp every 3 s
            return Float(
                0.5 * sin(2 * .pi * 440 * t) + 0.25 * sin(2 * .pi * (200 * chirpTime + 1500 * chirpTime * chirpTime))
                    + 0.1 * sin(2 * .pi * 5000 * t) * sin(2 * .pi * 3 * t))
        }
    }
}
