import ArgumentParser
import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram

/// Runs the project's jobs. Until the experiment runner lands, the one job is the audio
/// front end: every 4Q clip through decoding and the log-mel cache, and the thesis's
/// spectrogram figures (7 and 20) for one clip per quadrant. Without the 4Q data it runs
/// on its embedded default, a synthetic signal of tones and a chirp.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a job (frontend) or all of them.")

    @Argument(help: "frontend, or all.") var name = "all"
    @Option(help: "Folder for figures.") var figures = "figures"
    @OptionGroup var data: DataOptions

    func run() throws {
        guard ["all", "frontend"].contains(name) else {
            throw ValidationError("unknown job '\(name)': the jobs are: frontend (and all)")
        }
        Interrupt.install()
        let fourQ = data.root.appendingPathComponent("4q")
        let figureFolder = URL(fileURLWithPath: figures)
        let parameters = SpectrogramParameters()
        guard FileManager.default.fileExists(atPath: fourQ.appendingPathComponent("metadata.csv").path) else {
            print("frontend: 4Q clips not found under \(data.root.path) (set --data-root or MOODDEX_DATA_ROOT; see README, Data)")
            print("frontend: running on the embedded default, a synthetic 30 s signal")
            let samples = SyntheticSignal.tonesAndChirp(seconds: 30, sampleRate: parameters.sampleRate)
            let spectrogram = try LogMelSpectrogram(parameters)(samples)
            let output = figureFolder.appendingPathComponent("frontend-synthetic.png")
            try SpectrogramPicture.figure(spectrogram, parameters: parameters, title: "synthetic: 440 Hz, a chirp, a 5 kHz tremolo")
                .render(to: output)
            print("frontend: wrote \(output.path)")
            return
        }
        let paths = try FeatureCache.audioFiles(in: fourQ.path)
        let cache = try FeatureCache(directory: data.cache.appendingPathComponent("features"), recipe: FeatureRecipe(parameters: parameters))
        let report = cache.build(paths)
        print(String(format: "frontend: %d clips, %d computed, %d cached already, %d failed, %.1f s",
                     paths.count, report.computed, report.reused, report.failures.count, report.seconds))
        for failure in report.failures { warn("mooddex: \(failure)") }
        if report.interrupted { throw ExitCode(130) }
        for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
            guard let clip = paths.first(where: { $0.contains("/\(quadrant)/") }) else { continue }
            for (label, segment) in [("first", Segment.first(seconds: 30)), ("middle", Segment.middle(seconds: 10))] {
                let audio = try AudioFile.decode(clip, segment: segment)
                let spectrogram = try LogMelSpectrogram(parameters)(audio)
                let output = figureFolder.appendingPathComponent("frontend-\(quadrant.lowercased())-\(label).png")
                try SpectrogramPicture.figure(spectrogram, parameters: parameters,
                                              title: "\(quadrant): \(URL(fileURLWithPath: clip).lastPathComponent), \(segment)")
                    .render(to: output)
                print("frontend: wrote \(output.path)")
            }
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}

/// The embedded default input: 440 Hz, a chirp rising from 200 Hz, and a 5 kHz tremolo
/// (the same recipe as the tests' signal, stretched to any length).
enum SyntheticSignal {
    static func tonesAndChirp(seconds: Double, sampleRate: Int) -> [Float] {
        (0..<Int(seconds * Double(sampleRate))).map { i in
            let t = Double(i) / Double(sampleRate)
            let chirpTime = t.truncatingRemainder(dividingBy: 3)  // restart the chirp every 3 s
            return Float(0.5 * sin(2 * .pi * 440 * t) + 0.25 * sin(2 * .pi * (200 * chirpTime + 1500 * chirpTime * chirpTime))
                + 0.1 * sin(2 * .pi * 5000 * t) * sin(2 * .pi * 3 * t))
        }
    }
}
