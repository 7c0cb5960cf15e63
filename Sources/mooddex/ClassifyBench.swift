import ArgumentParser
import Foundation
import MoodAudio
import MoodClassifier
import MoodCore
import MoodDatasets
import MoodNotebook
import MoodSpectrogram
import MoodTensor
import MoodTraining

/// `mooddex bench classify`: the four-mood model's cost end to end (decode + log-mel + CNN) for one
/// file on one core and for 100 files on all cores, and one training epoch over the 628 4Q clips
/// from cached spectrograms. The model's weights do not change its speed, so an untrained one is timed.
struct ClassifyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Four-mood classification and training speed on 4Q clips.")
    @Option(help: "Also write the results to this JSON file.") var json: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        let record = try Self.measure(data: data)
        if let json { try record.write(to: URL(fileURLWithPath: json)) }
    }

    /// Times classification and one epoch, printing each figure.
    static func measure(data: DataOptions) throws -> ClassifyBenchRecord {
        let fourQ = try FourQ(folder: data.root.appendingPathComponent("4q"))
        let paths = fourQ.clips.map(\.path)
        let model = MoodModel(settings: MoodModel.Settings())
        let cores = Compute.availableCores
        _ = model.classify([paths[0]], threads: 1)
        let single = Stopwatch.median(
            (0..<10).map { i in Stopwatch.time { _ = model.classify([paths[i]], threads: 1) } })
        let hundred = Array(paths.prefix(100))
        let batch = Stopwatch.time { _ = model.classify(hundred, threads: cores) }
        var settings = MoodModel.Settings()
        settings.epochs = 1
        let cache = try FeatureCache(directory: data.cache.appendingPathComponent("features"), recipe: settings.recipe)
        _ = cache.build(paths, progress: false)
        let epoch = try Stopwatch.time {
            _ = try MoodModel.train(
                paths: paths, labels: fourQ.clips.map(\.mood), settings: settings, cache: cache, threads: cores)
        }
        print("machine: \(Machine.description)")
        print(String(format: "classify: %.1f ms per 30-s MP3, end to end, 1 core", 1000 * single))
        print(
            String(
                format: "classify: 100 files in %.2f s on %d cores: %.1f files/s (%.1f per core)", batch, cores,
                100 / batch, 100 / batch / Double(cores)))
        print(
            String(
                format: "train: one epoch over %d clips (cached spectrograms, load included) in %.1f s", paths.count,
                epoch))
        return ClassifyBenchRecord(
            classify_one_ms: 1000 * single, classify_100_s: batch, cores: cores, epoch_s: epoch, clips: paths.count)
    }
}
