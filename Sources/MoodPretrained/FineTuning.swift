import Foundation
import MoodCore
import MoodTensor
import MoodTraining

/// fastai's transfer-learning procedure on a pretrained musicnn, as the thesis applied it to
/// its ImageNet ResNet:
///
/// 1. a new head for the task (musicnn's 200 -> 50 tag layer becomes 200 -> classes, VGG's
///    256 -> 50 becomes 256 -> classes, freshly drawn);
/// 2. `freeze`: only the head trains, plus every batch norm (fastai's `train_bn`);
///    `lr_find`, then `fit_one_cycle(frozenEpochs, lr)`;
/// 3. `unfreeze`, `lr_find` again, `fit_one_cycle(unfrozenEpochs, slice(hi / spread, hi))`
///    (5 and 2 epochs by default, the thesis's schedule):
///    discriminative rates spread geometrically over the groups (mid end, back end, head).
///
/// With `Settings.headStart` `.probe` (LP-FT, Kumar et al. 2022, "Fine-tuning can distort
/// pretrained features") step 2 is replaced by the exact fit of the head: the penalised logistic
/// regression of the linear probe on clip-mean penultimate features (penalty by an artist-grouped
/// search inside the training clips), its standardisation folded into the new layer,
/// `W' = W / s`, `b' = b - W' m`. Fine-tuning then starts from the probe's weights instead of
/// a random head, so the unfrozen stage refines the probe rather than first undoing the noise
/// a fresh head sends back into the body. (The probe is fitted on clip means and predicts from
/// them; the head sees one window at a time and the clip's softmaxes are averaged, so the two
/// agree exactly only on one-window clips.)
///
/// By default the front end (88 % of the FLOPs) stays frozen throughout and is computed once
/// per clip (``FrontEndMaps``). With `Settings.trainFrontEnd` it trains too in the unfrozen
/// stage, on windows of the clips' log-mels (``ClipLogMels``), about 4 times dearer per
/// epoch (48 s against 11-13 s for 502 clips on 2 cores), at a rate one step of the spread
/// below the mid end's: the groups' rates are `hi / spread^(k / (m - 1))` for the group `k`
/// places before the head, `m` the groups after the front end (so with 3 of them and spread
/// 10: head `hi`, back end `hi/√10`, mid end `hi/10`, front end `hi/10^1.5`). Training draws
/// a random 3-s window per clip and epoch; prediction averages the softmax over a clip's
/// non-overlapping windows, as musicnn's tagger averages its patches.
///
/// A VGG base (``MusicnnNetwork/Architecture/vgg``) has the same groups: blocks 1-2 are its
/// front end (76 % of its FLOPs, cached as ``FrontEndMaps``), blocks 3-5 its mid end, nothing
/// between pool 5 and the head; so it fine-tunes blocks 3-5 and the head on cached maps, or
/// with `trainFrontEnd` the whole network from log-mels.
///
/// Multi-label (`Settings.multiLabel`, N tags): one sigmoid per tag and binary cross-entropy;
/// the probe is one binary logistic regression per tag (each its own `C`), whose two-class
/// softmax is the sigmoid of `z1 - z0`, so its head row is `w1 - w0`, `b1 - b0`; prediction
/// averages each tag's sigmoid over the clip's windows.
public final class FineTunedMusicnn {
    /// Where the new head starts.
    public enum HeadStart: String, Codable, Sendable {
        /// fastai's: freshly drawn, then trained with the body frozen (`lr_find`, one-cycle).
        case fresh
        /// The linear probe's exact fit (LP-FT); the frozen stage is skipped.
        case probe
    }

    public struct Settings: Codable, Sendable, Equatable {
        public var base: PretrainedModel = .msdMusicnn
        public var classes = 4
        public var frozenEpochs = 5
        public var unfrozenEpochs = 2
        /// Ratio of the head's rate to the mid end's in the unfrozen stage (`slice(hi / spread, hi)`).
        public var spread = 100.0
        /// Steps of each `lr_find`.
        public var finderSteps = 60
        public var batchSize = 32
        public var weightDecay: Float = 0.01
        public var seed: UInt64 = 2022
        /// `nil` is `.fresh` (so model files written before this option still load).
        public var headStart: HeadStart?
        /// The unfrozen stage's peak rate for the head; `nil` takes `lr_find`'s suggestion.
        public var unfrozenRate: Double?
        /// Whether the front end trains too in the unfrozen stage (from log-mel windows); `nil`
        /// is false (so model files written before this option still load).
        public var trainFrontEnd: Bool?
        /// Whether the `classes` outputs are independent tags (sigmoid, binary cross-entropy)
        /// rather than exclusive classes (softmax); `nil` is false (older model files).
        public var multiLabel: Bool?
        public init() {}

        public var trainsFrontEnd: Bool { trainFrontEnd ?? false }
        public var isMultiLabel: Bool { multiLabel ?? false }

        /// LP-FT as `ch3-four-moods` measures it: the probe's head, then 10 unfrozen epochs
        /// peaking at 3e-3 on the head and 3e-4 on the mid end (spread 10). The rate is fixed:
        /// with the head already fitted, `lr_find`'s curve gives no clear minimum (the report
        /// prints its range).
        public static var probeStart: Settings {
            var settings = Settings()
            settings.headStart = .probe
            settings.unfrozenEpochs = 10
            settings.spread = 10
            settings.unfrozenRate = 3e-3
            return settings
        }
    }

    /// What a run went through: both lr_find curves, the chosen rates and every epoch.
    public struct Record: Sendable {
        /// `nil` when the head started from the probe (no frozen stage).
        public var frozenFinder: LearningRateFinder.Result?
        public var unfrozenFinder: LearningRateFinder.Result
        /// The frozen stage's rate (`nil` without one).
        public var frozenRate: Double?
        /// The probe's chosen `C` when the head started from it (multi-label: the median of
        /// the tags' choices, the upper one of an even count).
        public var probePenalty: Double?
        public var unfrozenRate: Double
        public var history: [EpochRecord]
    }

    public let settings: Settings
    public let net: MusicnnNetwork
    /// The layers training updates: everything after the front end, or with
    /// `Settings.trainFrontEnd` the whole network (sharing its layers with `net`).
    let trained: Sequential
    /// Layer-group boundaries inside `trained`.
    let trainedGroups: [Range<Int>]

    /// A fine-tuned model from its settings and a network holding its weights.
    public init(settings: Settings, net: MusicnnNetwork) {
        self.settings = settings
        self.net = net
        if settings.trainsFrontEnd {
            trained = net.network
            trainedGroups = net.groups
            net.fixInput()
        } else {
            trained = net.tail()
            trainedGroups = net.tailGroups
        }
        // On maps the tail's input is frozen: VGG's block 3 need not compute its gradient (set
        // both ways, since the layer is shared with `net`). musicnn's mid end keeps its wiring.
        Self.firstConvolution(net.network.layers[net.groups[1]])?.computesInputGradient = settings.trainsFrontEnd
    }

    /// The rate fastai's `lr_find` suggests (`lr_min`: the minimum's rate over ten), kept
    /// within [1e-5, 1e-1] so a flat or noisy curve cannot pick an absurd one.
    static func suggestion(_ found: LearningRateFinder.Result) -> Double { min(max(found.minimumOverTen, 1e-5), 1e-1) }

    /// Fine-tunes on the clips `train` (indices into `maps`) with mood `labels`; `validation`
    /// (clips, labels) is scored after each epoch on its middle windows; `backend` runs the
    /// trained convolutions (`TrainingBackend`). `probeFolds` (indices into `train`, e.g. grouped
    /// by artist) are the probe's penalty search when the head starts from the probe (required then).
    /// `logMels` (the same clips as `maps`) are required when the front end trains; the probe
    /// is still fitted on features from the released front end's `maps`; with `maps` nil (only
    /// when the front end trains) the probe is fitted on the released network's features of the
    /// log-mels themselves.
    public static func train(
        maps: FrontEndMaps?, logMels: ClipLogMels? = nil, train: [Int], labels: [Int], probeFolds: [[Int]]? = nil,
        validation: ([Int], [Int])? = nil,
        settings: Settings, cache: URL, threads: Int, progress: Bool = false,
        backend: TrainingBackend = .reference
    ) throws -> (FineTunedMusicnn, Record) {
        try fineTune(
            maps: maps, logMels: logMels, train: train, targets: .classes(labels, count: settings.classes),
            probeFolds: probeFolds, validation: validation.map { ($0.0, .classes($0.1, count: settings.classes)) },
            settings: settings, cache: cache, threads: threads, progress: progress, backend: backend)
    }

    /// The same for multi-label tagging (`settings.multiLabel` true): `tags` holds each training
    /// clip's 0/1 vector over the `settings.classes` tags, `validation` its clips and vectors.
    public static func train(
        maps: FrontEndMaps?, logMels: ClipLogMels? = nil, train: [Int], tags: [[Float]], probeFolds: [[Int]]? = nil,
        validation: ([Int], [[Float]])? = nil,
        settings: Settings, cache: URL, threads: Int, progress: Bool = false,
        backend: TrainingBackend = .reference
    ) throws -> (FineTunedMusicnn, Record) {
        try fineTune(
            maps: maps, logMels: logMels, train: train, targets: .tags(tags), probeFolds: probeFolds,
            validation: validation.map { ($0.0, .tags($0.1)) }, settings: settings, cache: cache, threads: threads,
            progress: progress, backend: backend)
    }

    static func fineTune(
        maps: FrontEndMaps?, logMels: ClipLogMels?, train: [Int], targets: Targets, probeFolds: [[Int]]?,
        validation: ([Int], Targets)?, settings: Settings, cache: URL, threads: Int, progress: Bool,
        backend: TrainingBackend
    ) throws -> (FineTunedMusicnn, Record) {
        try check(targets, clips: train.count, settings: settings, name: "training targets")
        if let validation {
            try check(validation.1, clips: validation.0.count, settings: settings, name: "validation targets")
        }
        if let maps, maps.model != settings.base {
            throw InvalidParameter("maps", maps.model, "must come from the base model \(settings.base)")
        }
        let net = MusicnnNetwork(settings.base.architecture, outputs: settings.classes, seed: settings.seed)
        let pretrained = try settings.base.load(cache: cache)
        try net.loadNamed(
            pretrained.namedTensors().filter { !$0.key.hasPrefix("\(net.network.layers.count - 1).") },
            path: settings.base.rawValue, skippingMissing: true)
        let model = FineTunedMusicnn(settings: settings, net: net)
        model.trained.setTrainingBackend(backend)
        func windows(_ clips: [Int], _ targets: Targets) -> TrainingData {
            if let logMels, settings.trainsFrontEnd {
                return LogMelWindows(logMels, clips: clips, targets: targets)
            }
            return FrontEndWindows(maps!, clips: clips, targets: targets)
        }
        if settings.trainsFrontEnd {
            guard let logMels, maps == nil || logMels.frames.count == maps!.frames.count else {
                throw InvalidParameter(
                    "logMels", logMels.map { "\($0.frames.count) clips" } ?? "none",
                    "must hold the clips of maps (\(maps?.frames.count ?? 0)) when the front end trains")
            }
        } else if maps == nil {
            throw InvalidParameter("maps", "none", "are needed unless the front end trains")
        }
        let trainData = windows(train, targets)
        let validData = validation.map { windows($0.0, $0.1) } ?? trainData
        let groups = model.trainedGroups.map { range in model.trained.layers[range].flatMap(\.parameters) }
        let optimizer = Adam.adamW(groups.map { ParameterGroup($0) }, weightDecay: settings.weightDecay)
        let learner = Learner(
            network: model.trained, train: trainData, valid: validData, batchSize: settings.batchSize,
            optimizer: optimizer, seed: settings.seed &+ 1, threads: threads)
        learner.augment = true
        learner.showProgress = progress

        var frozenFinder: LearningRateFinder.Result?, frozenRate: Double?, probePenalty: Double?
        if settings.headStart == .probe {
            // Stage 1 as an exact fit: the linear probe becomes the head.
            // Disjoint, non-empty folds that cover every training clip: an empty fold (fewer
            // artists than folds) would score every C as NaN and pick one silently.
            let covered = probeFolds?.joined().sorted() ?? []
            guard let probeFolds, probeFolds.count >= 2, probeFolds.allSatisfy({ !$0.isEmpty }),
                covered == Array(train.indices)
            else {
                throw InvalidParameter(
                    "probeFolds", probeFolds?.map { "\($0.count)" }.joined(separator: "+") ?? "none",
                    "must split the \(train.count) training clips into at least 2 disjoint, non-empty folds (at least 2 artists)"
                )
            }
            probePenalty = try model.setHeadFromProbe(
                maps: maps, logMels: logMels, train: train, targets: targets, folds: probeFolds, threads: threads)
        } else {
            // Stage 1: the body frozen but for its batch norms.
            for range in model.trainedGroups.dropLast() {
                for layer in model.trained.layers[range] { freezeExceptNorms(layer) }
            }
            let finder = LearningRateFinder(steps: settings.finderSteps).run(learner)
            frozenFinder = finder
            frozenRate = suggestion(finder)
            try learner.fitOneCycle(epochs: settings.frozenEpochs, maxLR: suggestion(finder))
        }

        // Stage 2: everything after the front end (or everything), rates spread over the groups.
        for p in model.trained.parameters { p.frozen = false }
        if settings.trainsFrontEnd { net.fixInput() }
        let unfrozenFinder = LearningRateFinder(steps: settings.finderSteps).run(learner)
        if let rate = settings.unfrozenRate, !(rate.isFinite && rate > 0) {
            throw InvalidParameter("unfrozenRate", rate, "must be a positive, finite learning rate")
        }
        let unfrozenRate = settings.unfrozenRate ?? min(suggestion(unfrozenFinder), frozenRate ?? .infinity)
        let count = learner.optimizer.groups.count, steps = Double(max(net.tailGroups.count - 1, 1))
        for g in 0..<count {
            learner.optimizer.groups[g].learningRateScale = Float(pow(settings.spread, -Double(count - 1 - g) / steps))
        }
        try learner.fitOneCycle(epochs: settings.unfrozenEpochs, maxLR: unfrozenRate)
        model.net.network.name("")
        return (
            model,
            Record(
                frozenFinder: frozenFinder, unfrozenFinder: unfrozenFinder, frozenRate: frozenRate,
                probePenalty: probePenalty, unfrozenRate: unfrozenRate, history: learner.history)
        )
    }

    /// Fits the linear probe on the training clips' mean penultimate features (inference mode,
    /// grid windows of `maps`, or of `logMels` without maps; penalty searched over `folds`,
    /// indices into `train`) and writes it into the head's dense layer with the standardisation
    /// folded in; the chosen `C`.
    func setHeadFromProbe(
        maps: FrontEndMaps?, logMels: ClipLogMels? = nil, train: [Int], labels: [Int], folds: [[Int]], threads: Int
    ) throws -> Double {
        try setHeadFromProbe(
            maps: maps, logMels: logMels, train: train, targets: .classes(labels, count: settings.classes),
            folds: folds, threads: threads)
    }

    /// The same for either kind of targets; multi-label: one binary probe per tag, the median
    /// `C` (the upper one of an even count).
    func setHeadFromProbe(
        maps: FrontEndMaps?, logMels: ClipLogMels? = nil, train: [Int], targets: Targets, folds: [[Int]],
        threads: Int
    ) throws -> Double {
        let features =
            if let maps {
                net.clipOutputs(maps: maps, clips: train, upTo: net.embeddingEnd, threads: threads)
            } else {
                net.clipOutputs(logMels: logMels!, clips: train, upTo: net.embeddingEnd, threads: threads)
            }
        let x = features.map { $0.map(Double.init) }
        // Each output's probe as a row of weights over standardised features and an intercept.
        let scaler: Standardizer
        var rows = [(weights: ArraySlice<Double>, intercept: Double)](), penalties = [Double]()
        switch targets {
        case .classes(let labels, let count):
            let (s, probe, _) = try PenaltySearch.fit(
                x: x, labels: labels, classes: count, folds: folds, threads: threads)
            scaler = s
            rows = (0..<count).map {
                (probe.weights[$0 * probe.features..<($0 + 1) * probe.features], probe.intercepts[$0])
            }
            penalties = [probe.inverseRegularisation]
        case .tags(let vectors):
            scaler = Standardizer(fitting: x)
            for t in 0..<settings.classes {
                let y = vectors.map { $0[t] > 0 ? 1 : 0 }
                let (_, probe, _) = try PenaltySearch.fit(x: x, labels: y, classes: 2, folds: folds, threads: threads)
                let w = probe.features
                rows.append(
                    (
                        ArraySlice((0..<w).map { probe.weights[w + $0] - probe.weights[$0] }),
                        probe.intercepts[1] - probe.intercepts[0]
                    ))
                penalties.append(probe.inverseRegularisation)
            }
        }
        let width = x.first?.count ?? 0
        guard let head = net.network.layers.last as? Linear, head.inFeatures == width else {
            throw InvalidParameter(
                "base", settings.base.rawValue, "needs a dense output layer over the \(width) penultimate features")
        }
        // A feature constant over the training clips has a deviation of a few ulps of its mean
        // (rounding in the mean), and w / s would overflow Float or cancel to noise: its
        // standardised value, constant up to that rounding, goes into the bias (its training mean)
        // instead of a weight. The bound, 1e-6 of the mean, is about 16 Float ulps.
        let constant = (0..<width).map { scaler.scale[$0] < 1e-6 * abs(scaler.mean[$0]) }
        let constantValue = (0..<width).map { j in
            constant[j]
                ? features.reduce(0.0) { $0 + (Double($1[j]) - scaler.mean[j]) / scaler.scale[j] }
                    / Double(features.count) : 0
        }
        for (k, row) in rows.enumerated() {
            var bias = row.intercept
            for j in 0..<width {
                let w = row.weights[row.weights.startIndex + j]
                if constant[j] {
                    head.weight.value.data[k * width + j] = 0
                    bias += w * constantValue[j]
                } else {
                    head.weight.value.data[k * width + j] = Float(w / scaler.scale[j])
                    bias -= w / scaler.scale[j] * scaler.mean[j]
                }
            }
            head.bias.value.data[k] = Float(bias)
        }
        return penalties.sorted()[penalties.count / 2]
    }

    /// Targets that fit the settings: one per clip, of the kind `multiLabel` says, `classes` wide.
    static func check(_ targets: Targets, clips: Int, settings: Settings, name: String) throws {
        let problem: String? =
            switch targets {
            case .classes(let labels, let count):
                settings.isMultiLabel
                    ? "are class labels, but the settings are multi-label"
                    : count != settings.classes
                        ? "count \(count) classes, the settings \(settings.classes)"
                        : labels.first { !(0..<count).contains($0) }.map {
                            "hold the label \($0), outside 0..<\(count)"
                        }
            case .tags(let rows):
                !settings.isMultiLabel
                    ? "are tag vectors, but the settings are single-label"
                    : rows.first { $0.count != settings.classes }.map {
                        "hold a vector of \($0.count) tags, the settings \(settings.classes)"
                    }
            }
        if let problem { throw InvalidParameter(name, "\(targets.sampleCount) rows", problem) }
        if targets.sampleCount != clips {
            throw InvalidParameter(name, "\(targets.sampleCount) rows", "must give one per clip (\(clips))")
        }
    }

    /// The convolution that first reads the input of `layers`: the first layer with parameters,
    /// if it is one (looking inside a sequence). Layers without parameters before it (zero
    /// padding, dropout) have nothing to train, so the input's gradient serves nothing there.
    static func firstConvolution(_ layers: ArraySlice<Layer>) -> Conv2D? {
        guard let first = layers.first(where: { !$0.parameters.isEmpty }) else { return nil }
        if let conv = first as? Conv2D { return conv }
        if let sequence = first as? Sequential { return firstConvolution(sequence.layers[...]) }
        return nil
    }

    static func freezeExceptNorms(_ layer: Layer) {
        if layer is BatchNorm2D { return }
        if layer.sublayers.isEmpty { for p in layer.parameters { p.frozen = true } }
        layer.sublayers.forEach(freezeExceptNorms)
    }

    /// The mean of per-window rows for each clip, in the order of `clips`.
    static func meanPerClip(_ rows: [[Float]], items: [(clip: Int, start: Int)], clips: [Int]) -> [[Float]] {
        let width = rows.first?.count ?? 0
        var sums = [Int: [Float]](), counts = [Int: Int]()
        for (item, row) in zip(items, rows) {
            var sum = sums[item.clip] ?? [Float](repeating: 0, count: width)
            for j in 0..<width { sum[j] += row[j] }
            sums[item.clip] = sum
            counts[item.clip, default: 0] += 1
        }
        return clips.map { c in sums[c]!.map { $0 / Float(counts[c]!) } }
    }

    /// Class probabilities per clip (multi-label: tag probabilities): the softmax (sigmoid)
    /// averaged over the clip's grid windows of
    /// `maps`, which must come from this model's own front end (the released one's unless the
    /// front end trained).
    public func probabilities(maps: FrontEndMaps, clips: [Int], threads: Int) -> [[Float]] {
        let tail = settings.trainsFrontEnd ? net.tail() : trained
        defer { if settings.trainsFrontEnd { net.network.name("") } }
        let data = FrontEndWindows(gridOf: maps, clips: clips, outputs: settings.classes)
        return probabilities(data, items: data.items, network: tail, clips: clips, threads: threads)
    }

    /// Class probabilities per clip from its log-mel's grid windows, each run through the whole
    /// network as musicnn's tagger runs its patches.
    public func probabilities(logMels: ClipLogMels, clips: [Int], threads: Int) -> [[Float]] {
        let data = LogMelWindows(gridOf: logMels, clips: clips, outputs: settings.classes)
        return probabilities(data, items: data.items, network: net.network, clips: clips, threads: threads)
    }

    func probabilities(
        _ data: TrainingData, items: [(clip: Int, start: Int)], network: Sequential, clips: [Int], threads: Int
    ) -> [[Float]] {
        let learner = Learner(
            network: network, train: data, valid: data, batchSize: settings.batchSize, seed: 0, threads: threads)
        let logits = learner.predictLogits(data)
        let windows =
            settings.isMultiLabel
            ? logits.map { $0.map { 1 / (1 + exp(-$0)) } }
            : SoftmaxCrossEntropy.probabilities(
                Tensor(shape: [logits.count, settings.classes], values: logits.flatMap { $0 }))
        return Self.meanPerClip(windows, items: items, clips: clips)
    }
}

extension MusicnnNetwork {
    /// Keeps the input's batch norm (one channel: two numbers) as pretrained and stops the
    /// backward pass at the convolutions that read it, for training the front end: the input's
    /// gradient would cost as much as the front end's forward pass and serve only those two
    /// numbers. (The norm still normalises with batch statistics in training, as every batch norm.)
    public func fixInput() {
        guard let norm = network.layers.first as? BatchNorm2D, norm.channels == 1, network.layers.count > 1 else {
            return
        }
        for p in norm.parameters { p.frozen = true }
        let readers = (network.layers[1] as? Concatenate)?.branches ?? [network.layers[1]]
        for reader in readers { FineTunedMusicnn.firstConvolution([reader][...])?.computesInputGradient = false }
    }
}
