import Foundation
import MoodAudio
import MoodCore
import MoodDatasets
import MoodFeatures
import MoodSpectrogram
import MoodTensor
import MoodTraining

/// A trained four-mood classifier and everything needed to apply it to a new file: the
/// spectrogram recipe, the pooling, the standardisation, the network and the mood names.
/// Saved as a folder: `model.safetensors` (weights) and `model.json` (the rest).
public final class MoodModel {
    public struct Settings: Codable, Sendable, Equatable {
        public var moods = FourQ.moods
        public var channels = [16, 32, 64, 64]
        public var dropout: Float = 0.3
        /// Average pooling of the 96 x 1292 log-mel before the network (bands, frames).
        public var pool = [2, 2]
        public var segmentSeconds = 30.0
        /// Which part of a file: "first" or "middle".
        public var segment = "first"
        public var mean: Float = 0
        public var std: Float = 1
        public var epochs = 40
        public var maxLR = 3e-3
        public var batchSize = 32
        public var weightDecay: Float = 0.01
        public var augment = true
        public var seed: UInt64 = 2022

        public init() {}

        public var recipe: FeatureRecipe {
            FeatureRecipe(
                parameters: SpectrogramParameters(),
                segment: segment == "middle" ? .middle(seconds: segmentSeconds) : .first(seconds: segmentSeconds),
                short: .pad)
        }
        public var shape: (bands: Int, frames: Int) {
            let p = SpectrogramParameters()
            return (
                p.melBands / pool[0], p.frameCount(forSamples: Int(segmentSeconds * Double(p.sampleRate))) / pool[1]
            )
        }
    }

    public var settings: Settings
    public let cnn: MoodCNN

    public init(settings: Settings) {
        self.settings = settings
        cnn = MoodCNN(
            classes: settings.moods.count, channels: settings.channels, dropout: settings.dropout, seed: settings.seed)
    }

    // MARK: Training

    /// Trains on `paths` with mood indices `labels`, reading spectrograms through `cache`.
    /// `validation` (paths, labels) is scored after every epoch when given. With `checkpoint`,
    /// the whole training state is saved there after every epoch, and a run that finds one of
    /// the same schedule resumes after it (bit for bit as if it had never stopped). `shouldStop`
    /// (default: Ctrl-C) is polled after each epoch; stopping throws `CancellationError`.
    /// `backend` runs the convolutions (`TrainingBackend`: `.reference` for bits that repeat on
    /// every machine, `.oneDNN` for speed).
    public static func train(
        paths: [String], labels: [Int], validation: ([String], [Int])? = nil, settings: Settings,
        cache: FeatureCache, threads: Int, progress: Bool = false, checkpoint: URL? = nil,
        backend: TrainingBackend = .reference, shouldStop: (() -> Bool)? = nil,
        onEpoch: ((EpochRecord) -> Void)? = nil
    ) throws -> (model: MoodModel, learner: Learner) {
        var settings = settings
        let trainSamples = try SpectrogramData.load(
            paths, cache: cache, pool: (settings.pool[0], settings.pool[1]), progress: progress)
        (settings.mean, settings.std) = SpectrogramData.statistics(trainSamples)
        let model = MoodModel(settings: settings)
        model.cnn.network.setTrainingBackend(backend)
        let train = SpectrogramData(
            samples: trainSamples, shape: settings.shape, targets: .classes(labels, count: settings.moods.count),
            mean: settings.mean, std: settings.std)
        let valid: SpectrogramData
        if let validation {
            let samples = try SpectrogramData.load(
                validation.0, cache: cache, pool: (settings.pool[0], settings.pool[1]), progress: false)
            valid = SpectrogramData(
                samples: samples, shape: settings.shape, targets: .classes(validation.1, count: settings.moods.count),
                mean: settings.mean, std: settings.std)
        } else {
            valid = train
        }
        let learner = Learner(
            network: model.cnn.network, train: train, valid: valid, batchSize: settings.batchSize,
            optimizer: Adam.adamW([ParameterGroup(model.cnn.parameters)], weightDecay: settings.weightDecay),
            seed: settings.seed &+ 1, threads: threads)
        learner.augment = settings.augment
        learner.showProgress = progress
        if let onEpoch { learner.callbacks.append { if case .epoch(let r) = $0 { onEpoch(r) } } }
        if let shouldStop { learner.shouldStop = shouldStop }
        try learner.fitOneCycle(epochs: settings.epochs, maxLR: settings.maxLR, checkpoint: checkpoint)
        return (model, learner)
    }

    // MARK: Prediction

    /// Mood probabilities for spectrograms already pooled (unstandardised). All must have the
    /// same length. Longer inputs than the training length are fine (global pooling); shorter
    /// ones (a 10-s segment) are repeated in time up to the training length, since the
    /// network's pools need a minimum width and repeating keeps the statistics of music
    /// where zero padding would add silence.
    public func probabilities(pooled samples: [[Float]], threads: Int) -> [[Float]] {
        guard let first = samples.first else { return [] }
        let bands = settings.shape.bands, frames = first.count / bands
        if frames < settings.shape.frames {
            let target = settings.shape.frames
            let tiled = samples.map { s in
                (0..<bands).flatMap { b in (0..<target).map { f in s[b * frames + f % frames] } }
            }
            return probabilities(pooled: tiled, threads: threads)
        }
        let shape = (bands: bands, frames: frames)
        let data = SpectrogramData(
            samples: samples, shape: shape,
            targets: .classes(Array(repeating: 0, count: samples.count), count: settings.moods.count),
            mean: settings.mean, std: settings.std)
        let learner = Learner(
            network: cnn.network, train: data, valid: data, batchSize: settings.batchSize, seed: 0, threads: threads)
        let logits = Tensor(
            shape: [samples.count, settings.moods.count], values: learner.predictLogits(data).flatMap { $0 })
        return SoftmaxCrossEntropy.probabilities(logits)
    }

    /// Mood probabilities for audio files: decoded and turned into spectrograms on `threads`
    /// threads, then classified in batches. A file that cannot be read gives its error instead, and so
    /// does one shorter than `ShortAudioPolicy/minimumSeconds` unless `padShort`.
    public func classify(_ paths: [String], threads: Int, padShort: Bool = false) -> [Result<[Float], InputError>] {
        var pooled = [Result<[Float], InputError>](repeating: .failure(InputError("", "not done")), count: paths.count)
        let lock = NSLock()
        var next = 0
        var recipe = settings.recipe
        if padShort { recipe.short = .padAny }
        let pool = (settings.pool[0], settings.pool[1])
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, paths.count))) { _ in
            let computer = try? LogMelSpectrogram(recipe.parameters)
            while true {
                lock.lock(); let i = next; next += 1; lock.unlock()
                guard i < paths.count else { return }
                let outcome: Result<[Float], InputError>
                do {
                    // Rounded through Float16 as cached spectrograms are, so a file scores the same either way.
                    var spectrogram = try recipe.compute(paths[i], with: computer)
                    spectrogram.values = spectrogram.values.map { Float(Float16($0)) }
                    outcome = .success(SpectrogramData.pooled(spectrogram, pool))
                } catch let error as InputError { outcome = .failure(error) } catch {
                    outcome = .failure(InputError(paths[i], "\(error)"))
                }
                lock.lock(); pooled[i] = outcome; lock.unlock()
            }
        }
        let good = pooled.enumerated().compactMap { i, r -> (Int, [Float])? in
            if case .success(let s) = r { return (i, s) }; return nil
        }
        var results = pooled
        if !good.isEmpty {
            let probabilities = self.probabilities(pooled: good.map(\.1), threads: threads)
            for (k, (i, _)) in good.enumerated() {
                // Never a mood from NaN: a broken model must not label a song.
                results[i] =
                    probabilities[k].allSatisfy(\.isFinite)
                    ? .success(probabilities[k])
                    : .failure(
                        InputError(
                            paths[i], "the model gave non-finite probabilities (its weights or settings are broken)"))
            }
        }
        return results
    }

    // MARK: Files

    public func save(to folder: URL) throws {
        try AtomicFile.createFolder(folder, for: folder.path)
        try Safetensors.write(
            Checkpoint.modelTensors(cnn.network), metadata: ["format": "mooddex-mood-model-1"],
            to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(settings), to: folder.appendingPathComponent("model.json"))
    }

    public static func load(from folder: URL) throws -> MoodModel {
        let json = folder.appendingPathComponent("model.json")
        guard FileManager.default.fileExists(atPath: json.path) else {
            throw InputError(
                folder.path,
                "no model.json: not a MoodDex model folder (make one with `mooddex train -o \(folder.path)`)")
        }
        let data = try RegularFile.contents(json.path, what: "the model settings")
        let settings: Settings
        do { settings = try JSONDecoder().decode(Settings.self, from: data) } catch {
            throw InputError(json.path, "unreadable model settings: \(error)")
        }
        try settings.validate(path: json.path)
        let model = MoodModel(settings: settings)
        let weights = folder.appendingPathComponent("model.safetensors")
        let tensors = try Safetensors.read(weights.path).tensors
        try checkFinite(tensors, path: weights.path)
        try Checkpoint.loadModel(model.cnn.network, from: tensors, path: weights.path)
        return model
    }
}
