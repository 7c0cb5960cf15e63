import Foundation
import MoodCore
import MoodDatasets
import MoodMetrics
import MoodNotebook
import MoodPlot
import MoodPretrained
import MoodTensor
import MoodTraining

/// The thesis's method, transfer learning, with networks pretrained on music: the musicnn
/// 0.1.0 taggers (Pons & Serra 2019) against the from-scratch CNN on the same folds.
extension Ch3FourMoods {
    /// Out-of-fold mood probabilities of one approach, for the comparison table.
    struct Contender {
        var name: String
        var probabilities: [[Float]?]
    }

    static func transfer(_ nb: Notebook, clips: [FourQ.Clip], folds: [[Int]], foldCount: Int, cnn: [[Float]?]) throws {
        let cache = nb.options.cacheDirectory
        nb.markdown("## Transfer learning from networks pretrained on music")
        guard PretrainedModel.allCases.allSatisfy({ $0.isAvailable(cache: cache) }) else {
            nb.markdown("*Skipped: \(PretrainedModel.howToGet).*")
            return
        }
        // Quick runs: the first 10 s of every other training clip, one base network.
        let seconds = nb.quick ? 10.0 : 30.0
        let tested = Array(folds.prefix(foldCount).joined())
        let testedSet = Set(tested)
        let training = { (f: Int) -> [Int] in
            let held = Set(folds[f])
            let all = clips.indices.filter { !held.contains($0) }
            return nb.quick ? all.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) : all
        }
        let used = Array(Set(tested).union((0..<foldCount).flatMap(training))).sorted()
        let bases: [PretrainedModel] = nb.quick ? [.msdMusicnn] : PretrainedModel.allCases
        let gflop = { (a: MusicnnNetwork.Architecture) in
            String(format: "%.1f", MusicnnNetwork(a, seed: 0).forwardFLOPs / 1e9)
        }
        nb.markdown(
            """
            The thesis fine-tuned a pretrained CNN with fastai. Networks pretrained on *music* are at hand:
            the four taggers of the `musicnn` 0.1.0 package (ISC licence; MoodDex reads their TensorFlow
            checkpoints itself and matches TensorFlow's outputs within 1e-4): **musicnn** (musically
            motivated timbral and temporal filters, \(gflop(.musicnn)) GFLOP per 3-s patch) and a 5-layer **VGG**
            (\(gflop(.vgg)) GFLOP), each trained on the Million Song Dataset's 50 Last.fm tags (MSD) or on
            MagnaTagATune's (MTT). Input: musicnn's own, 16 kHz, 96 mel bands, `log10(10000 x + 1)`,
            non-overlapping 3-s patches of the first \(Int(seconds)) s. Same folds as above\(nb.quick ? "; quick run: every other training clip, one network" : "").
            """)
        nb.parameter("transfer input seconds", seconds)

        var contenders = [Contender(name: "CNN from scratch (above)", probabilities: cnn)]
        var maps = [PretrainedModel: FrontEndMaps]()
        let labels = clips.map(\.mood)

        // 1. Zero-shot and the cheapest transfer: frozen features + logistic regression.
        var allFeatures = [[[Float]]]()
        var penalties = [(String, [Double])]()
        var embeddingSets = [(contender: Contender, features: [[Float]])]()
        func embeddingContender(_ name: String, features: [[Float]]) throws -> Contender {
            var probabilities = [[Float]?](repeating: nil, count: clips.count), chosen = [Double]()
            for f in 0..<foldCount {
                let (p, c) = try fitEmbeddingModel(
                    features: features, labels: labels, artists: clips.map(\.artist), train: training(f),
                    test: folds[f], seed: nb.seed &+ UInt64(f), threads: nb.threads)
                for (k, i) in folds[f].enumerated() { probabilities[i] = p[k] }
                chosen.append(c)
            }
            penalties.append((name, chosen))
            embeddingSets.append((Contender(name: name, probabilities: probabilities), features))
            return embeddingSets.last!.contender
        }
        for base in bases {
            let start = Date()
            var features = [[Float]](repeating: [], count: clips.count)
            let paths = used.map { clips[$0].path }
            if base.architecture == .musicnn {
                let m = try FrontEndMaps(
                    model: base, paths: paths, seconds: seconds, cache: cache, threads: nb.threads,
                    progress: nb.options.showProgress)
                maps[base] = m
                let net = try base.load(cache: cache)
                let local = Array(0..<used.count)
                let embedded = net.clipOutputs(maps: m, clips: local, upTo: net.embeddingEnd, threads: nb.threads)
                for (k, i) in used.enumerated() { features[i] = embedded[k] }
                if base == .msdMusicnn {
                    let tags = net.clipOutputs(
                        maps: m, clips: local, upTo: net.network.layers.count, threads: nb.threads
                    ) { 1 / (1 + exp(-$0)) }
                    var zeroShot = [[Float]?](repeating: nil, count: clips.count)
                    let scores = ZeroShotMoods.scores(tags)
                    for (k, i) in used.enumerated() where testedSet.contains(i) { zeroShot[i] = scores[k] }
                    contenders.append(Contender(name: "zero-shot: MSD_musicnn mood tags", probabilities: zeroShot))
                }
            } else {
                let embedded = try ClipEmbeddings.compute(
                    model: base, paths: paths, seconds: seconds, cache: cache, threads: nb.threads,
                    progress: nb.options.showProgress)
                for (k, i) in used.enumerated() { features[i] = embedded[k] }
            }
            nb.timing("\(base) features", seconds: Date().timeIntervalSince(start))
            allFeatures.append(features)
            contenders.append(try embeddingContender("\(base) embedding + logistic regression", features: features))
        }
        if bases.count > 1 {
            let joined = clips.indices.map { i in allFeatures.flatMap { $0[i] } }
            contenders.append(
                try embeddingContender("all \(bases.count) embeddings joined + logistic regression", features: joined))
        }
        // The two musicnn bodies alone, the pair `ch3-multilabel` joins (400 values per clip).
        let musicnn = bases.indices.filter { bases[$0].architecture == .musicnn }
        if musicnn.count > 1 && musicnn.count < bases.count {
            let joined = clips.indices.map { i in musicnn.flatMap { allFeatures[$0][i] } }
            let name = musicnn.map { "\(bases[$0])" }.joined(separator: " + ")
            contenders.append(
                try embeddingContender("\(name) embeddings joined + logistic regression", features: joined))
        }

        // 2. Fine-tuning: MSD_musicnn, the best probe's body, fastai's way (the thesis's procedure)
        //    and from the probe's head (LP-FT); MTT_musicnn and MSD_vgg (the better VGG probe) from
        //    their probes' heads, each with its front end frozen and cached (VGG: blocks 1-2).
        var fastai = FineTunedMusicnn.Settings()
        fastai.seed = nb.seed
        if nb.quick { (fastai.frozenEpochs, fastai.unfrozenEpochs) = (2, 2) }
        var fromProbe = FineTunedMusicnn.Settings.probeStart
        fromProbe.seed = nb.seed
        if nb.quick { fromProbe.unfrozenEpochs = 2 }
        nb.parameter("fine-tuning epochs (frozen + unfrozen)", "\(fastai.frozenEpochs) + \(fastai.unfrozenEpochs)")
        nb.parameter("discriminative spread (head / mid end)", fastai.spread)
        nb.parameter(
            "fine-tuning from the probe: unfrozen epochs, peak rate, spread",
            "\(fromProbe.unfrozenEpochs), \(fromProbe.unfrozenRate!), \(fromProbe.spread)")
        var records = [String: FineTunedMusicnn.Record]()
        let runs: [(PretrainedModel, FineTunedMusicnn.Settings, String)] =
            [
                (.msdMusicnn, fastai, "fine-tuned"), (.msdMusicnn, fromProbe, "fine-tuned from the probe"),
                (.mttMusicnn, fromProbe, "fine-tuned from the probe"),
                (.msdVGG, fromProbe, "fine-tuned from the probe"),
            ]
        for (base, template, suffix) in runs where bases.contains(base) {
            let start = Date()
            // VGG's block-2 maps serve only its fine-tuning (its embedding row runs whole patches).
            let m =
                try maps[base]
                ?? FrontEndMaps(
                    model: base, paths: used.map { clips[$0].path }, seconds: seconds, cache: cache,
                    threads: nb.threads, progress: nb.options.showProgress)
            maps[base] = m
            var settings = template
            settings.base = base
            let local = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($0.element, $0.offset) })
            var probabilities = [[Float]?](repeating: nil, count: clips.count)
            for f in 0..<foldCount {
                let train = training(f)
                // The embedding model's own penalty-search folds, so the head starts as that probe.
                let inner = CrossValidation.groupKFold(
                    groups: train.map { clips[$0].artist }, folds: 5, seed: nb.seed &+ UInt64(f))
                let (model, record) = try FineTunedMusicnn.train(
                    maps: m, train: train.map { local[$0]! }, labels: train.map { labels[$0] }, probeFolds: inner,
                    validation: (folds[f].map { local[$0]! }, folds[f].map { labels[$0] }), settings: settings,
                    cache: cache, threads: nb.threads)
                if f == 0 && base == .msdMusicnn { records[suffix] = record }
                let p = model.probabilities(maps: m, clips: folds[f].map { local[$0]! }, threads: nb.threads)
                for (k, i) in folds[f].enumerated() { probabilities[i] = p[k] }
            }
            nb.timing("\(base) \(suffix)", seconds: Date().timeIntervalSince(start))
            contenders.append(Contender(name: "\(base) \(suffix)", probabilities: probabilities))
        }
        if let fresh = records["fine-tuned"], let probe = records["fine-tuned from the probe"] {
            let suffix = " embedding + logistic regression"
            let probes = contenders.filter { $0.name.hasSuffix(suffix) && !$0.name.hasPrefix("all") }
            let accuracy = { (c: Contender) in tested.filter { argmax(c.probabilities[$0]!) == labels[$0] }.count }
            let bestProbe = String(probes.max { accuracy($0) < accuracy($1) }!.name.dropLast(suffix.count))
            try fineTuningFigures(
                nb, fastai: fresh, fastaiSettings: fastai, probe: probe, probeSettings: fromProbe, bestProbe: bestProbe,
                probeBases: runs.filter { $0.2 == "fine-tuned from the probe" && maps[$0.0] != nil }.map(\.0))
        }
        // 3. A committee fixed in advance: the mean probabilities of every network's embedding
        //    model and every fine-tuned network (not the joined embeddings, not zero-shot).
        let members = contenders.filter {
            $0.name.contains(" fine-tuned")
                || ($0.name.hasSuffix("embedding + logistic regression") && !$0.name.hasPrefix("all"))
        }
        if members.count > 1 {
            var mean = [[Float]?](repeating: nil, count: clips.count)
            for i in tested {
                mean[i] = (0..<4).map { m in members.reduce(0) { $0 + $1.probabilities[i]![m] } / Float(members.count) }
            }
            contenders.append(
                Contender(name: "committee: mean of the \(members.count) per-network models", probabilities: mean))
        }
        nb.markdown(
            """
            The logistic regressions are fitted to their exact optimum (L-BFGS in double precision; the same \
            probabilities as scikit-learn's `LogisticRegression` within 1e-5, tested). The penalty is chosen \
            inside each training set, by a 5-fold artist-grouped search over C in \(PenaltySearch.grid.map { String(format: "%g", $0) }.joined(separator: ", ")) \
            (held-out cross-entropy); the test fold never takes part.\(bases.count > 1 ? " A joined row puts the networks' clip embeddings side by side (standardised together); the two musicnn bodies joined are the pair `ch3-multilabel` joins." : "") \
            C chosen per outer fold:
            """)
        nb.table(
            ["features", "C per fold"],
            penalties.map { [$0.0, $0.1.map { String(format: "%g", $0) }.joined(separator: ", ")] })
        try comparison(nb, clips: clips, tested: tested, contenders: contenders)
        if !nb.quick { try foldAssignmentSpread(nb, clips: clips, sets: embeddingSets) }
    }

    /// The embedding models again with the artists dealt into five folds by two more seeds:
    /// how much their accuracy owes to one fold assignment. Cheap (the embeddings are computed
    /// once), so it runs for every embedding model; the from-scratch CNN's spread comes from its
    /// three training seeds instead (above).
    static func foldAssignmentSpread(
        _ nb: Notebook, clips: [FourQ.Clip], sets: [(contender: Contender, features: [[Float]])]
    ) throws {
        let seeds = [nb.seed, nb.seed &+ 1, nb.seed &+ 2]
        let labels = clips.map(\.mood), artists = clips.map(\.artist)
        func accuracy(_ p: [[Float]?]) -> Double {
            Double(clips.indices.filter { argmax(p[$0]!) == labels[$0] }.count) / Double(clips.count)
        }
        nb.markdown(
            """
            ### How much one fold assignment matters

            The same embedding models, with the artists dealt into five folds by seeds \(seeds.map { "\($0)" }.joined(separator: ", ")) \
            (the first is the assignment above; the penalty search is repeated inside every training set).
            """)
        var rows = [[String]](), ranges = [Double]()
        for set in sets {
            var accuracies = [accuracy(set.contender.probabilities)]
            for seed in seeds.dropFirst() {
                let folds = CrossValidation.groupKFold(groups: artists, folds: 5, seed: seed)
                var probabilities = [[Float]?](repeating: nil, count: clips.count)
                for (f, fold) in folds.enumerated() {
                    let held = Set(fold)
                    let (p, _) = try fitEmbeddingModel(
                        features: set.features, labels: labels, artists: artists,
                        train: clips.indices.filter { !held.contains($0) }, test: fold, seed: seed &+ UInt64(f),
                        threads: nb.threads)
                    for (k, i) in fold.enumerated() { probabilities[i] = p[k] }
                }
                accuracies.append(accuracy(probabilities))
            }
            let (mean, sd) = Intervals.meanAndStandardDeviation(accuracies)
            ranges.append(accuracies.max()! - accuracies.min()!)
            rows.append(
                [set.contender.name] + accuracies.map { String(format: "%.2f", 100 * $0) }
                    + [String(format: "%.2f ± %.2f", 100 * mean, 100 * sd)])
            if set.contender.name == "\(PretrainedModel.msdMusicnn) embedding + logistic regression" {
                nb.metric(
                    "transfer_msd_musicnn_embedding_assignment_mean", mean,
                    label: "MSD_musicnn embedding + logistic regression: mean over 3 fold assignments")
                nb.metric(
                    "transfer_msd_musicnn_embedding_assignment_sd", sd,
                    label: "MSD_musicnn embedding + logistic regression: sd over 3 fold assignments")
            }
        }
        nb.table(["approach"] + seeds.map { "folds of seed \($0)" } + ["mean ± sd"], rows)
        nb.markdown(
            String(
                format:
                    "Another fold assignment moves a model's accuracy by up to %.2f points (the widest range above), which is why the comparisons above pair the models on the same clips (McNemar) instead of comparing their accuracies across runs.",
                100 * ranges.max()!))
    }

    /// Standardised clip embeddings (statistics of the training clips) into an L2-penalised
    /// logistic regression fitted exactly, its penalty `C` chosen by a 5-fold artist-grouped
    /// search inside the training clips (never the test fold); out-of-fold probabilities of
    /// `test` and the chosen `C`.
    static func fitEmbeddingModel(
        features: [[Float]], labels: [Int], artists: [String], train: [Int], test: [Int],
        seed: UInt64, threads: Int
    ) throws -> (probabilities: [[Float]], penalty: Double) {
        let x = train.map { features[$0].map(Double.init) }, y = train.map { labels[$0] }
        let inner = CrossValidation.groupKFold(groups: train.map { artists[$0] }, folds: 5, seed: seed)
        let (scaler, model, _) = try PenaltySearch.fit(
            x: x, labels: y, classes: 4, folds: inner, threads: threads)
        let probabilities = test.map { i in
            model.probabilities(scaler.transform(features[i].map(Double.init))).map(Float.init)
        }
        return (probabilities, model.inverseRegularisation)
    }

    /// lr_find of every stage and the loss curves of both fine-tunings of MSD_musicnn (fold 0).
    static func fineTuningFigures(
        _ nb: Notebook, fastai: FineTunedMusicnn.Record, fastaiSettings: FineTunedMusicnn.Settings,
        probe: FineTunedMusicnn.Record, probeSettings: FineTunedMusicnn.Settings, bestProbe: String,
        probeBases: [PretrainedModel]
    ) throws {
        func curve(_ name: String, _ r: LearningRateFinder.Result) -> LinePlot.Series {
            .init(name, Array(zip(r.learningRates, r.smoothedLosses)))
        }
        try nb.figure(
            "finetune-lr-find",
            caption:
                "lr_find before each stage of fine-tuning MSD_musicnn (fold 0): fastai's frozen and unfrozen stages, and the unfrozen stage with the probe's head"
        ) { url in
            var plot = LinePlot(
                title: "lr_find, MSD_musicnn fine-tuning (fold 0)", xLabel: "learning rate", yLabel: "smoothed loss",
                series: (fastai.frozenFinder.map { [curve("fastai: frozen (head + batch norms)", $0)] } ?? []) + [
                    curve("fastai: unfrozen (mid end, back end, head)", fastai.unfrozenFinder),
                    curve("from the probe: unfrozen", probe.unfrozenFinder),
                ],
                logX: true)
            plot.markers =
                (fastai.frozenRate.map { [($0, "frozen")] } ?? []) + [
                    (fastai.unfrozenRate, "unfrozen"), (probe.unfrozenRate, "from the probe"),
                ]
            try plot.render(to: url)
        }
        try nb.figure(
            "finetune-loss",
            caption:
                "Training and validation loss per epoch while fine-tuning MSD_musicnn (fold 0): fastai's procedure (the body is unfrozen after epoch \(fastaiSettings.frozenEpochs - 1)) and from the probe's head (unfrozen throughout)"
        ) { url in
            func series(_ name: String, _ h: [EpochRecord]) -> [LinePlot.Series] {
                [
                    .init("\(name): train", h.map { (Double($0.epoch), Double($0.trainLoss)) }),
                    .init("\(name): valid", h.map { (Double($0.epoch), Double($0.validLoss)) }),
                ]
            }
            try LinePlot(
                title: "fine-tuning MSD_musicnn (fold 0)", xLabel: "epoch", yLabel: "cross-entropy",
                series: series("fastai", fastai.history) + series("from the probe", probe.history)
            ).render(to: url)
        }
        nb.markdown(
            String(
                format:
                    "fastai's procedure: lr_find suggested %.1e for the frozen stage and %.1e once unfrozen (`lr_min`, the minimum's rate over ten); the unfrozen stage uses `slice(%.1e, %.1e)` over mid end, back end and head.",
                fastai.frozenRate ?? .nan, fastai.unfrozenRate, fastai.unfrozenRate / fastaiSettings.spread,
                fastai.unfrozenRate))
        let finder = probe.unfrozenFinder
        let low = zip(finder.learningRates, finder.smoothedLosses).filter { $0.0 <= 1e-2 }.map(\.1)
        let (lowest, highest) = (low.min() ?? .nan, low.max() ?? .nan)
        nb.markdown(
            String(
                format:
                    """
                    **Fine-tuning from the probe** (LP-FT: Kumar et al. 2022, *Fine-tuning can distort pretrained \
                    features*). fastai's frozen stage trains a freshly drawn head for %d epochs of one random 3-s crop \
                    per clip; here the probe's exact fit (the embedding model above, fitted on clip means) takes \
                    that stage's place. Its weights, with the standardisation folded in, become the head, and the \
                    body is unfrozen from the start: %d epochs, one-cycle peaking at %g on the head and %g on \
                    the mid end. The rate is fixed, not lr_find's: with the head already fitted, the finder's \
                    smoothed loss on fold 0 stays between %.3f and %.3f for every rate up to 1e-2 (a spread of %.0f %% of \
                    the lowest), so its minimum says little; fastai's rule would have taken %.1e. The rate and \
                    the epochs were chosen on folds 0 and 1 (1e-4, 1e-3, 3e-3 and 1e-2 tried), so those two folds \
                    took part in the choice.
                    """, fastaiSettings.frozenEpochs, probeSettings.unfrozenEpochs, probeSettings.unfrozenRate!,
                probeSettings.unfrozenRate! / probeSettings.spread, lowest, highest, 100 * (highest - lowest) / lowest,
                finder.minimumOverTen)
                + " fastai's procedure fine-tunes MSD_musicnn"
                + (bestProbe == "\(PretrainedModel.msdMusicnn)"
                    ? ", whose probe scores best above" : " (the best probe above is \(bestProbe)'s)")
                + "; LP-FT fine-tunes \(probeBases.map { "\($0)" }.joined(separator: ", ")) (the figures show MSD_musicnn's), "
                + "with the same settings for every base. Each keeps its front end frozen and computed once per clip: "
                + "musicnn's timbral and temporal filters, and VGG's blocks 1-2 (76 % of its FLOPs; blocks 3-5 and "
                + "the head train). A VGG window is cut "
                + "from the clip's block-2 map at a multiple of 4 frames, so its probe (fitted on those windows) "
                + "differs slightly from the embedding row's, which runs whole patches.")
    }

    /// Accuracy with intervals, per-mood recall and McNemar's test against the from-scratch
    /// CNN for every approach, on the same clips; the sentences follow from the tests.
    static func comparison(_ nb: Notebook, clips: [FourQ.Clip], tested: [Int], contenders: [Contender]) throws {
        let truth = tested.map { clips[$0].mood }
        func correct(_ c: Contender) -> [Bool] { tested.map { argmax(c.probabilities[$0]!) == clips[$0].mood } }
        let baseline = correct(contenders[0])
        var rows = [[String]](), best: (name: String, accuracy: Double, report: ClassificationReport)?
        for c in contenders {
            let report = ClassificationReport(
                truth: truth, predicted: tested.map { argmax(c.probabilities[$0]!) }, classes: 4)
            let accuracy = Intervals.wilson(successes: report.correct, trials: report.total)
            let test = McNemar(aCorrect: correct(c), bCorrect: baseline)
            rows.append(
                [c.name, accuracy.formatted(2, scale: 100), String(format: "%.3f", report.macroF1)]
                    + (0..<4).map { String(format: "%.2f", report.recall($0)) }
                    + [c.name == contenders[0].name ? "" : "\(test.verdict()) (\(test.summary))"])
            if best == nil || accuracy.value > best!.accuracy { best = (c.name, accuracy.value, report) }
            let key = c.name.lowercased().replacingOccurrences(of: " ", with: "_").filter {
                $0.isLetter || $0.isNumber || $0 == "_"
            }
            if c.name != contenders[0].name {
                nb.metric("transfer_\(key)_accuracy", accuracy.value, label: "\(c.name): accuracy")
            }
        }
        nb.table(
            [
                "approach", "accuracy [95 %]", "macro-F1", "happy", "sad", "calm", "energetic",
                "vs the from-scratch CNN",
            ], rows)
        let majority = (0..<4).map { m in truth.filter { $0 == m }.count }.max()!
        nb.markdown(
            String(
                format:
                    "Recall per mood in the four mood columns. Predicting the commonest mood scores %.2f %%; chance is 25 %%.",
                100 * Double(majority) / Double(truth.count)))
        if let best {
            nb.metric(
                "transfer_best_accuracy", best.accuracy, label: "best transfer approach: accuracy (\(best.name))",
                thesis: Thesis.cnnAccuracy,
                note: "thesis: fine-tuned ImageNet ResNet on Spotify previews, one validation split")
            nb.metric(
                "transfer_best_min_recall", (0..<4).map { best.report.recall($0) }.min()!,
                label: "best transfer approach: lowest per-mood recall")
            nb.markdown("Best here: **\(best.name)**, \(String(format: "%.2f", 100 * best.accuracy)) %.")
        }
    }
}
