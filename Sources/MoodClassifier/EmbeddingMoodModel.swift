import Foundation
import MoodAudio
import MoodCore
import MoodDatasets
import MoodPretrained
import MoodTensor
import MoodTraining

/// The cheapest transfer, and on the 4Q folds among the most accurate (`ch3-four-moods`): a
/// pretrained network's penultimate features (musicnn 200, VGG 256) averaged over the clip's
/// 3-s windows of its front-end map (`FrontEndMaps`), standardised, into an L2-penalised
/// logistic regression whose penalty is chosen by an artist-grouped search inside the training clips.
///
/// Saved as a folder that stands alone: `model.safetensors` holds the pretrained body (as
/// released, 2-3 MB) and the probe (`probe.weights` `[moods, 200 or 256]`, `probe.intercepts`,
/// `probe.mean`, `probe.scale`, in float64), `model.json` the settings (`"kind":
/// "musicnn-embedding-logistic"`).
public final class EmbeddingMoodModel: MoodClassifying {
    public struct Settings: Codable, Sendable, Equatable {
        public var kind = EmbeddingMoodModel.kind
        public var moods: [String]
        public var base: PretrainedModel
        /// Seconds from the start of each file that are embedded (and trained on).
        public var seconds = 30.0
        /// The penalty grid searched, and the `C` the search chose.
        public var grid = PenaltySearch.grid
        public var penalty: Double?
        /// Seed of the search's artist-grouped folds.
        public var seed: UInt64 = 2022

        public init(moods: [String], base: PretrainedModel) {
            self.moods = moods
            self.base = base
        }
    }

    public static let kind = "musicnn-embedding-logistic"
    public let settings: Settings
    let net: MusicnnNetwork
    let scaler: Standardizer
    let probe: LogisticRegression
    public var moods: [String] { settings.moods }
    /// What runs the network's convolutions in ``classify(_:threads:padShort:)`` (`mooddex classify`
    /// sets `.oneDNN`; training always uses the reference code).
    public var inferenceBackend = InferenceBackend.reference

    init(settings: Settings, net: MusicnnNetwork, scaler: Standardizer, probe: LogisticRegression) {
        self.settings = settings
        self.net = net
        self.scaler = scaler
        self.probe = probe
    }

    /// Clip embeddings of `paths` (front-end maps cached in `cache` unless `persist` is false);
    /// failures per file when `keepGoing`.
    static func embeddings(
        _ paths: [String], base: PretrainedModel, net: MusicnnNetwork, seconds: Double, cache: URL, persist: Bool,
        keepGoing: Bool, minimumSeconds: Double, threads: Int, progress: Bool,
        backend: InferenceBackend = .reference
    ) throws -> ([[Double]?], [Int: InputError]) {
        // Each map worker gets its own copy: a network keeps per-layer work buffers, so two
        // workers must never run one instance at once.
        let weights = net.namedTensors()
        let maps = try FrontEndMaps(
            model: base, paths: paths, seconds: seconds, cache: cache, threads: threads, progress: progress,
            persist: persist, keepGoing: keepGoing, minimumSeconds: minimumSeconds,
            network: {
                let copy = MusicnnNetwork(base.architecture, seed: 0)
                try copy.loadNamed(weights, path: "\(base) weights")
                copy.network.setInferenceBackend(backend)
                return copy
            })
        let good = paths.indices.filter { maps.failures[$0] == nil }
        net.network.setInferenceBackend(backend)
        let rows =
            good.isEmpty ? [] : net.clipOutputs(maps: maps, clips: good, upTo: net.embeddingEnd, threads: threads)
        var out = [[Double]?](repeating: nil, count: paths.count)
        for (k, i) in good.enumerated() { out[i] = rows[k].map(Double.init) }
        return (out, maps.failures)
    }

    /// Trains on `paths` with mood indices `labels`; `groups` (artists) keep the penalty
    /// search's folds artist-disjoint. Returns the model and the search's mean held-out loss per C.
    public static func train(
        paths: [String], labels: [Int], groups: [String], settings: Settings, cache: URL, threads: Int,
        progress: Bool = false
    ) throws -> (EmbeddingMoodModel, [Double]) {
        precondition(paths.count == labels.count && paths.count == groups.count, "one label and one group per file")
        let net = try settings.base.load(cache: cache)
        let (rows, _) = try embeddings(
            paths, base: settings.base, net: net, seconds: settings.seconds, cache: cache, persist: true,
            keepGoing: false, minimumSeconds: 0, threads: threads, progress: progress)
        let x = rows.map { $0! }
        let folds = CrossValidation.groupKFold(groups: groups, folds: 5, seed: settings.seed)
        let (scaler, probe, losses) = try PenaltySearch.fit(
            x: x, labels: labels, classes: settings.moods.count, folds: folds, grid: settings.grid,
            threads: threads)
        var chosen = settings
        chosen.penalty = probe.inverseRegularisation
        return (EmbeddingMoodModel(settings: chosen, net: net, scaler: scaler, probe: probe), losses)
    }

    public func probabilities(embedding: [Double]) -> [Float] {
        probe.probabilities(scaler.transform(embedding)).map(Float.init)
    }

    public func classify(_ paths: [String], threads: Int, padShort: Bool = false) -> [Result<[Float], InputError>] {
        let rows: [[Double]?], failures: [Int: InputError]
        do {
            (rows, failures) = try Self.embeddings(
                paths, base: settings.base, net: net, seconds: settings.seconds, cache: URL(fileURLWithPath: "/"),
                persist: false, keepGoing: true, minimumSeconds: padShort ? 0 : ShortAudioPolicy.minimumSeconds,
                threads: threads, progress: false, backend: inferenceBackend)
        } catch {
            return paths.map { .failure(InputError($0, "\(error)")) }
        }
        return paths.indices.map { i in
            guard let row = rows[i] else { return .failure(failures[i] ?? InputError(paths[i], "not classified")) }
            return .success(probabilities(embedding: row))
        }
    }

    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors = net.namedTensors()
        tensors["probe.weights"] = Safetensors.Entry(
            shape: [probe.classes, probe.features], values: .f64(probe.weights))
        tensors["probe.intercepts"] = Safetensors.Entry(shape: [probe.classes], values: .f64(probe.intercepts))
        tensors["probe.mean"] = Safetensors.Entry(shape: [probe.features], values: .f64(scaler.mean))
        tensors["probe.scale"] = Safetensors.Entry(shape: [probe.features], values: .f64(scaler.scale))
        try Safetensors.write(
            tensors, metadata: ["format": "mooddex-\(Self.kind)-1"],
            to: folder.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(settings), to: folder.appendingPathComponent("model.json"))
    }

    public static func load(from folder: URL, settings: Settings) throws -> EmbeddingMoodModel {
        let json = folder.appendingPathComponent("model.json").path
        guard !settings.moods.isEmpty, Set(settings.moods).count == settings.moods.count else {
            throw InputError(json, "moods \(settings.moods) are not distinct names")
        }
        guard settings.seconds >= MusicnnInput.patchSeconds && settings.seconds <= 600 else {
            throw InputError(json, "seconds \(settings.seconds) outside [\(MusicnnInput.patchSeconds), 600]")
        }
        let file = folder.appendingPathComponent("model.safetensors").path
        let tensors = try Safetensors.read(file).tensors
        let net = MusicnnNetwork(settings.base.architecture, seed: 0)
        try net.loadNamed(tensors, path: file)
        func doubles(_ name: String, count: Int) throws -> [Double] {
            guard let entry = tensors[name], case .f64(let values) = entry.values, values.count == count,
                values.allSatisfy(\.isFinite)
            else {
                throw InputError(file, "\(name): missing, not float64, not \(count) values or not finite")
            }
            return values
        }
        let classes = settings.moods.count, width = net.embeddingSize
        let probe = LogisticRegression(
            weights: try doubles("probe.weights", count: classes * width),
            intercepts: try doubles("probe.intercepts", count: classes),
            inverseRegularisation: settings.penalty ?? .nan)
        let scale = try doubles("probe.scale", count: width)
        guard scale.allSatisfy({ $0 > 0 }) else { throw InputError(file, "probe.scale: a scale is not positive") }
        return EmbeddingMoodModel(
            settings: settings, net: net,
            scaler: Standardizer(mean: try doubles("probe.mean", count: width), scale: scale),
            probe: probe)
    }
}
