import ArgumentParser
import Foundation
import MoodClassifier
import MoodCommandLine
import MoodCore
import MoodDatasets
import MoodFeatures
import MoodMetrics
import MoodSpectrogram
import MoodTensor

/// `mooddex bench precision`: does mixed precision cost accuracy? The four-mood CNN trained on
/// the artist-disjoint folds of the 4Q clips (the same folds and seed as `ch3-four-moods`) once
/// per convolution backend, each pair of backends compared on the same clips with McNemar's test.
struct PrecisionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "precision",
        abstract: "Four-mood CNN accuracy over the 4Q artist folds per convolution backend (fp32 vs bf16).")

    @Option(
        parsing: .upToNextOption,
        help: "Backends to train with: reference, onednn, onednn-bf16 (each on the same folds and seed).")
    var backends: [TrainingBackend] = [.oneDNN, .oneDNNBF16]
    @Option(help: "How many of the five folds to train and test (1-5).") var folds = 5
    @Option(help: "Epochs of one-cycle training per fold (1 or more).") var epochs = MoodModel.Settings().epochs
    @Option(help: "The seed of the folds and of every training.") var seed: UInt64 = 2022
    @Option(help: "Worker threads.") var threads = 2
    @OptionGroup var data: DataOptions

    func validate() throws {
        guard (1...5).contains(folds) else { throw ValidationError("--folds \(folds): must be 1 to 5") }
        guard epochs >= 1 else { throw ValidationError("--epochs \(epochs): must be at least 1") }
        guard !backends.isEmpty else { throw ValidationError("--backends: name at least one") }
    }

    func run() throws {
        let fourQ = try FourQ(folder: data.root.appendingPathComponent("4q"))
        let clips = fourQ.clips
        let split = CrossValidation.groupKFold(groups: clips.map(\.artist), folds: 5, seed: seed)
        var settings = MoodModel.Settings()
        settings.seed = seed
        settings.epochs = epochs
        let cache = try FeatureCache(directory: data.cache.appendingPathComponent("features"), recipe: settings.recipe)
        let pooled = try SpectrogramData.load(
            clips.map(\.path), cache: cache, pool: (settings.pool[0], settings.pool[1]), progress: true)
        let tested = Array(split.prefix(folds).joined())
        print("machine: \(Machine.description)")
        print("4Q: \(clips.count) clips, folds 0-\(folds - 1) (\(tested.count) clips), seed \(seed), \(epochs) epochs")
        var correct = [TrainingBackend: [Bool]]()
        for backend in backends {
            var right = [Int: Bool]()
            let started = Date()
            for f in 0..<folds {
                let held = Set(split[f])
                let train = clips.indices.filter { !held.contains($0) }
                let (model, _) = try MoodModel.train(
                    paths: train.map { clips[$0].path }, labels: train.map { clips[$0].mood }, settings: settings,
                    cache: cache, threads: threads, backend: backend)
                if model.cnn.network.oneDNNTrainingFellBack {
                    throw ValidationError(
                        "--backends \(backend.rawValue): oneDNN could not build its primitives on this CPU, so the training ran on the reference code"
                    )
                }
                let p = model.probabilities(pooled: split[f].map { pooled[$0] }, threads: threads)
                for (k, i) in split[f].enumerated() {
                    right[i] = p[k].indices.max { p[k][$0] < p[k][$1] }! == clips[i].mood
                }
            }
            let hits = tested.map { right[$0]! }
            correct[backend] = hits
            let accuracy = Intervals.wilson(successes: hits.filter { $0 }.count, trials: hits.count)
            print(
                "\(backend.rawValue): accuracy \(accuracy.formatted(2, scale: 100)) %"
                    + String(format: " (%.0f s)", Date().timeIntervalSince(started)))
        }
        for (i, a) in backends.enumerated() {
            for b in backends[(i + 1)...] {
                let test = McNemar(aCorrect: correct[a]!, bCorrect: correct[b]!)
                print("\(a.rawValue) vs \(b.rawValue): \(test.verdict()) (\(test.summary))")
            }
        }
    }
}
