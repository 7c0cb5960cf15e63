import ArgumentParser
import Foundation
import MoodCore
import MoodSpectrogram

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute and cache the log-mel spectrograms of every audio file in a folder, in parallel.",
        discussion: "Ctrl-C stops between files; what was finished stays cached and a rerun resumes.")

    @Argument(help: "A folder of MP3, WAV or Ogg Vorbis files (searched recursively).") var folder: String
    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).") var workers = ProcessInfo.processInfo
        .activeProcessorCount
    @OptionGroup var data: DataOptions
    @OptionGroup var segment: SegmentOptions
    @OptionGroup var spectrogram: SpectrogramOptions

    func validate() throws { try requireAtLeastOne(workers, "--workers") }

    func run() throws {
        Interrupt.install()
        let paths = try FeatureCache.audioFiles(in: folder)
        let cache = try FeatureCache(
            directory: data.cache.appendingPathComponent("features"),
            recipe: FeatureRecipe(parameters: spectrogram.parameters, segment: segment.value, short: segment.policy))
        let report = cache.build(paths, workers: workers)
        print(
            String(
                format: "%d files: %d computed, %d already cached, %d failed, %.1f s (%.1f files/s)",
                paths.count, report.computed, report.reused, report.failures.count, report.seconds,
                Double(report.computed + report.reused) / max(report.seconds, 1e-9)))
        print("cache: \(cache.directory.path)")
        if !report.repaired.isEmpty {
            warn("mooddex: \(report.repaired.count) damaged cache entries recomputed (listed above)")
        }
        for failure in report.failures { warn("mooddex: \(failure)") }
        if let error = report.cacheError { warn("mooddex: \(error)"); throw ExitCode(1) }
        if report.interrupted {
            warn("mooddex: interrupted; run the same command again to resume"); throw ExitCode(130)
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
