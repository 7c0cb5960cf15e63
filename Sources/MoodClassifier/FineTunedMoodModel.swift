import Foundation
import MoodAudio
import MoodCore
import MoodDatasets
import MoodPretrained
import MoodTensor

/// What `mooddex classify` and `filter` need of any saved mood model.
public protocol MoodClassifying {
    var moods: [String] { get }
    /// Mood probabilities per file, or the file's error (a file with less than
    /// `ShortAudioPolicy.minimumSeconds` of audio is one, unless `padShort`).
    func classify(_ paths: [String], threads: Int, padShort: Bool) -> [Result<[Float], InputError>]
}

extension MoodClassifying {
    public func classify(_ paths: [String], threads: Int) -> [Result<[Float], InputError>] {
        classify(paths, threads: threads, padShort: false)
    }
}

extension MoodModel: MoodClassifying {
    public var moods: [String] { settings.moods }
}

/// A four-mood classifier fine-tuned from a pretrained musicnn or VGG (`FineTunedMusicnn`), saved as
/// a folder like ``MoodModel``: `model.safetensors` (every weight, so the folder stands alone)
/// and `model.json` (`"kind": "musicnn-fine-tuned"`, the base, the moods, the recipe).
public final class FineTunedMoodModel: MoodClassifying {
    public struct Settings: Codable, Sendable, Equatable {
        public var kind = FineTunedMoodModel.kind
        public var moods: [String]
        /// Seconds from the start of each file that are classified (and trained on).
        public var seconds = 30.0
        public var training: FineTunedMusicnn.Settings
        public init(moods: [String], training: FineTunedMusicnn.Settings) {
            self.moods = moods
            self.training = training
        }
    }

    public static let kind = "musicnn-fine-tuned"
    public let settings: Settings
    public let model: FineTunedMusicnn
    public var moods: [String] { settings.moods }
    /// What runs the network's convolutions in ``classify(_:threads:padShort:)`` (`mooddex classify`
    /// sets `.oneDNN`; training's backend is `train`'s `backend` parameter).
    public var inferenceBackend = InferenceBackend.reference

    init(settings: Settings, model: FineTunedMusicnn) {
        self.settings = settings
        self.model = model
    }

    /// Fine-tunes on `paths` with mood indices `labels` (front-end maps cached in `cache`);
    /// `groups` (artists, one per path) keep the probe's penalty search artist-disjoint when the
    /// head starts from the probe (required then).
    public static func train(
        paths: [String], labels: [Int], groups: [String]? = nil, settings: Settings, cache: URL, threads: Int,
        progress: Bool = false, backend: TrainingBackend = .reference
    ) throws -> (FineTunedMoodModel, FineTunedMusicnn.Record) {
        var probeFolds: [[Int]]?
        if settings.training.headStart == .probe {
            guard let groups, groups.count == paths.count else {
                throw InvalidParameter("groups", groups?.count ?? 0, "must name one artist per file (\(paths.count))")
            }
            probeFolds = CrossValidation.groupKFold(groups: groups, folds: 5, seed: settings.training.seed)
        }
        let maps = try FrontEndMaps(
            model: settings.training.base, paths: paths, seconds: settings.seconds, cache: cache,
            threads: threads, progress: progress)
        let (model, record) = try FineTunedMusicnn.train(
            maps: maps, train: Array(paths.indices), labels: labels, probeFolds: probeFolds,
            settings: settings.training, cache: cache, threads: threads, progress: progress, backend: backend)
        return (FineTunedMoodModel(settings: settings, model: model), record)
    }

    public func classify(_ paths: [String], threads: Int, padShort: Bool = false) -> [Result<[Float], InputError>] {
        let net = model.net
        net.network.setInferenceBackend(inferenceBackend)
        let maps: FrontEndMaps
        do {
            maps = try FrontEndMaps(
                model: settings.training.base, paths: paths, seconds: settings.seconds,
                cache: URL(fileURLWithPath: "/"),
                threads: 1, progress: false, persist: false, keepGoing: true,
                minimumSeconds: padShort ? 0 : ShortAudioPolicy.minimumSeconds, network: { net })
        } catch {
            return paths.map { .failure(InputError($0, "\(error)")) }
        }
        let good = paths.indices.filter { maps.failures[$0] == nil }
        let probabilities = good.isEmpty ? [] : model.probabilities(maps: maps, clips: good, threads: threads)
        var results = paths.indices.map { i -> Result<[Float], InputError> in
            .failure(maps.failures[i] ?? InputError(paths[i], "not classified"))
        }
        for (k, i) in good.enumerated() { results[i] = .success(probabilities[k]) }
        return results
    }

    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Safetensors.write(
            model.net.namedTensors(), metadata: ["format": "mooddex-\(Self.kind)-1"],
            to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(settings), to: folder.appendingPathComponent("model.json"))
    }

    public static func load(from folder: URL, settings: Settings) throws -> FineTunedMoodModel {
        guard settings.moods.count == settings.training.classes, Set(settings.moods).count == settings.moods.count
        else {
            throw InputError(
                folder.appendingPathComponent("model.json").path,
                "moods \(settings.moods) do not match \(settings.training.classes) distinct classes")
        }
        guard settings.seconds >= MusicnnInput.patchSeconds && settings.seconds <= 600 else {
            throw InputError(
                folder.appendingPathComponent("model.json").path,
                "seconds \(settings.seconds) outside [\(MusicnnInput.patchSeconds), 600]")
        }
        let net = MusicnnNetwork(settings.training.base.architecture, outputs: settings.training.classes, seed: 0)
        let weights = folder.appendingPathComponent("model.safetensors")
        try net.loadNamed(try Safetensors.read(weights.path).tensors, path: weights.path)
        return FineTunedMoodModel(settings: settings, model: FineTunedMusicnn(settings: settings.training, net: net))
    }
}

/// Loads any saved mood model: a from-scratch ``MoodModel``, a ``FineTunedMoodModel`` or an ``EmbeddingMoodModel``,
/// told apart by `model.json`'s `kind`.
public enum MoodModels {
    public static func load(from folder: URL) throws -> MoodClassifying {
        let json = folder.appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: json.path) else {
            throw InputError(
                folder.path,
                "no model.json: not a MoodDex model folder (make one with `mooddex train -o \(folder.path)`)")
        }
        struct Kind: Decodable { var kind: String? }
        let kind = (try? JSONDecoder().decode(Kind.self, from: data))?.kind
        if kind == EmbeddingMoodModel.kind {
            do {
                return try EmbeddingMoodModel.load(
                    from: folder, settings: try JSONDecoder().decode(EmbeddingMoodModel.Settings.self, from: data))
            } catch let error as DecodingError { throw InputError(json.path, "unreadable model settings: \(error)") }
        }
        guard kind == FineTunedMoodModel.kind else { return try MoodModel.load(from: folder) }
        let settings: FineTunedMoodModel.Settings
        do { settings = try JSONDecoder().decode(FineTunedMoodModel.Settings.self, from: data) } catch {
            throw InputError(json.path, "unreadable model settings: \(error)")
        }
        return try FineTunedMoodModel.load(from: folder, settings: settings)
    }
}
