import Foundation
import MoodClassifier
@testable import MoodPretrained
import MoodDatasets
import MoodCore
import MoodSpectrogram
import MoodTensor
import MoodTraining
import MoodTestSupport
import Testing

@Suite(.serialized) struct ClassifierTests {
    let folder: URL
    init() throws { folder = try temporaryFolder("classifier") }

    /// Three-second WAVs (the least that is padded without --pad-short): low tones labelled calm, high ones energetic.
    func clips() throws -> (paths: [String], labels: [Int]) {
        var paths = [String](), labels = [Int]()
        for i in 0..<8 {
            let high = i % 2 == 1
            let url = folder.appendingPathComponent("clip\(i).wav")
            try wavData(
                sine(high ? 3000 + Double(i) * 50 : 200 + Double(i) * 10, seconds: 3, sampleRate: 22050), channels: 1,
                sampleRate: 22050
            ).write(to: url)
            paths.append(url.path)
            labels.append(high ? 3 : 2)
        }
        return (paths, labels)
    }

    func tinySettings() -> MoodModel.Settings {
        var s = MoodModel.Settings()
        s.channels = [4, 4, 4, 4]
        s.epochs = 8
        s.batchSize = 4
        s.maxLR = 1e-2
        s.augment = false
        s.seed = 5
        return s
    }

    /// `mooddex train` after Ctrl-C: the training state saved after each epoch lets the same
    /// call continue, and the model ends exactly as an uninterrupted one.
    @Test func aStoppedTrainingResumesFromItsCheckpoint() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels) = try clips()
        let cache = try FeatureCache(directory: folder.appendingPathComponent("cache"), recipe: tinySettings().recipe)
        let straight = try MoodModel.train(
            paths: paths, labels: labels, settings: tinySettings(), cache: cache, threads: 2
        ).model
        let checkpoint = folder.appendingPathComponent("model/training-checkpoint.safetensors")
        var epochs = 0
        #expect(throws: CancellationError.self) {
            _ = try MoodModel.train(
                paths: paths, labels: labels, settings: tinySettings(), cache: cache, threads: 2,
                checkpoint: checkpoint,
                shouldStop: { epochs >= 3 }, onEpoch: { _ in epochs += 1 })
        }
        #expect(epochs == 3)
        #expect(FileManager.default.fileExists(atPath: checkpoint.path))
        var resumedEpochs = 0
        let resumed = try MoodModel.train(
            paths: paths, labels: labels, settings: tinySettings(), cache: cache, threads: 2,
            checkpoint: checkpoint, onEpoch: { _ in resumedEpochs += 1 }
        ).model
        #expect(resumedEpochs == tinySettings().epochs - 3)
        for (a, b) in zip(straight.cnn.parameters, resumed.cnn.parameters) {
            #expect(a.value.values == b.value.values, "\(a.name)")
        }
    }

    @Test func trainSaveLoadAndClassifyWithBadEntries() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels) = try clips()
        let cache = try FeatureCache(directory: folder.appendingPathComponent("cache"), recipe: tinySettings().recipe)
        let (model, _) = try MoodModel.train(
            paths: paths, labels: labels, settings: tinySettings(), cache: cache, threads: 2)
        let saved = folder.appendingPathComponent("model")
        try model.save(to: saved)
        let loaded = try MoodModel.load(from: saved)
        #expect(loaded.settings == model.settings)

        let broken = folder.appendingPathComponent("broken.mp3")
        try Data("not audio".utf8).write(to: broken)
        let fifo = folder.appendingPathComponent("fifo.mp3")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        // A FIFO among the files (it would block a reader forever) costs only its own result.
        let inputs = paths + [broken.path, folder.appendingPathComponent("missing.wav").path, fifo.path]
        let a = model.classify(inputs, threads: 2), b = loaded.classify(inputs, threads: 1)
        for (x, y) in zip(a.prefix(8), b.prefix(8)) { #expect(try x.get() == y.get()) }
        #expect(throws: InputError.self) { try b[8].get() }
        #expect(throws: InputError.self) { try b[9].get() }
        #expect(throws: InputError(fifo.path, "is a named pipe (FIFO), not a regular file")) { try b[10].get() }
        let probabilities = try b.prefix(8).map { try $0.get() }
        #expect(probabilities.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 })
        // Separable toy data: the trained model gets most of it right.
        let correct = zip(probabilities, labels).filter { p, l in p.indices.max { p[$0] < p[$1] }! == l }.count
        #expect(correct >= 6, "\(correct) of 8")
    }

    @Test func playlistsKeepOrderResolvePathsAndCarryTheirComments() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let list = folder.appendingPathComponent("calm evening.m3u")
        try """
        #EXTM3U
        #EXTINF:30,Artist - First
        songs/a.mp3

        /absolute/b.mp3
        file:///music/c%20d.mp3
        """.write(to: list, atomically: true, encoding: .utf8)
        let playlist = try Playlist(contentsOf: list.path)
        #expect(
            playlist.entries.map(\.path) == [
                folder.appendingPathComponent("songs/a.mp3").path, "/absolute/b.mp3", "/music/c d.mp3",
            ])
        #expect(playlist.entries[0].comments == ["#EXTINF:30,Artist - First"])
        #expect(Playlist.mood(ofName: "calm evening.m3u", moods: ["happy", "sad", "calm", "energetic"]) == 2)
        #expect(Playlist.mood(ofName: "mix.m3u", moods: ["happy"]) == nil)
        let out = folder.appendingPathComponent("out.m3u")
        try Playlist.write([playlist.entries[0], playlist.entries[2]], to: out)
        #expect(
            try String(contentsOf: out, encoding: .utf8)
                == "#EXTM3U\n#EXTINF:30,Artist - First\nsongs/a.mp3\nfile:///music/c%20d.mp3\n")
        try "#EXTM3U\n".write(to: list, atomically: true, encoding: .utf8)
        #expect(throws: InputError(list.path, "the playlist names no files")) { try Playlist(contentsOf: list.path) }
        #expect(throws: InputError.self) { try Playlist(contentsOf: folder.path) }
        let fifo = folder.appendingPathComponent("fifo.m3u")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        #expect(throws: InputError(fifo.path, "is a named pipe (FIFO), not a regular file")) {
            try Playlist(contentsOf: fifo.path)
        }
    }

    @Test func aMissingModelFolderIsNamed() {
        #expect(throws: InputError.self) { try MoodModel.load(from: URL(fileURLWithPath: "/nonexistent/model")) }
    }
}

/// A musicnn fine-tuned on a few clips saves, loads (through `MoodModels`, which tells the two
/// kinds apart) and classifies the same; a bad file among them costs only its own result.
@Suite(
    .serialized,
    .enabled(
        if: PretrainedModel.msdMusicnn.isAvailable(cache: Locations.cacheDirectory()),
        "musicnn weights absent: run scripts/setup"))
struct FineTunedModelTests {
    @Test func fineTuneSaveLoadClassify() throws {
        let folder = try temporaryFolder("finetune")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, _) = try toneClips(in: folder, count: 6, seconds: 4)
        var training = FineTunedMusicnn.Settings()
        (training.frozenEpochs, training.unfrozenEpochs, training.batchSize, training.finderSteps) = (2, 1, 4, 12)
        let settings = FineTunedMoodModel.Settings(moods: ["happy", "sad", "calm", "energetic"], training: training)
        let (model, record) = try FineTunedMoodModel.train(
            paths: paths, labels: labels, settings: settings,
            cache: Locations.cacheDirectory(), threads: 2)
        #expect(record.history.count == 3)
        #expect(record.history.allSatisfy { $0.trainLoss.isFinite })
        let saved = folder.appendingPathComponent("model")
        try model.save(to: saved)
        let loaded = try MoodModels.load(from: saved)
        #expect(loaded is FineTunedMoodModel)
        let broken = folder.appendingPathComponent("broken.mp3")
        try Data("not audio".utf8).write(to: broken)
        let a = model.classify(paths + [broken.path], threads: 2),
            b = loaded.classify(paths + [broken.path], threads: 1)
        for (x, y) in zip(a.prefix(6), b.prefix(6)) { #expect(try x.get() == y.get()) }
        #expect(throws: InputError.self) { try b[6].get() }
        #expect(
            try b.prefix(6).allSatisfy { r in
                let p = try r.get(); return abs(p.reduce(0, +) - 1) < 1e-4
            })
    }

    /// Fine-tuning from the probe (LP-FT) starts from the embedding model: before any step, its
    /// head gives that model's probabilities (one window per clip, so the mean of softmaxes is
    /// the softmax of the mean; Float head against the Double regression, 1e-4), with the same `C`;
    /// for either architecture (VGG: 256 features from its block-2 maps), and the embedding model
    /// saved and loaded classifies the same.
    @Test(arguments: [PretrainedModel.msdMusicnn, .msdVGG])
    func theProbesHeadPredictsAsTheEmbeddingModel(base: PretrainedModel) throws {
        let folder = try temporaryFolder("probe-head")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        let cache = Locations.cacheDirectory()
        let (trained, _) = try EmbeddingMoodModel.train(
            paths: paths, labels: labels, groups: artists,
            settings: EmbeddingMoodModel.Settings(moods: ["happy", "sad", "calm", "energetic"], base: base),
            cache: cache, threads: 2)
        try trained.save(to: folder.appendingPathComponent("embedding"))
        let embedding = try MoodModels.load(from: folder.appendingPathComponent("embedding"))
        let net = MusicnnNetwork(base.architecture, outputs: 4, seed: 1)
        try net.loadNamed(
            try base.load(cache: cache).namedTensors().filter {
                !$0.key.hasPrefix("\(net.network.layers.count - 1).")
            }, path: base.rawValue, skippingMissing: true)
        var settings = FineTunedMusicnn.Settings.probeStart
        settings.base = base
        let model = FineTunedMusicnn(settings: settings, net: net)
        let maps = try FrontEndMaps(
            model: base, paths: paths, seconds: 30, cache: cache, threads: 2, progress: false, persist: false)
        var generator = SeededGenerator(seed: settings.seed)
        let folds = CrossValidation.groupKFold(groups: artists, folds: 5, generator: &generator)
        let penalty = try model.setHeadFromProbe(
            maps: maps, train: Array(paths.indices), labels: labels, folds: folds, threads: 2)
        #expect(penalty == trained.settings.penalty)
        let fineTuned = model.probabilities(maps: maps, clips: Array(paths.indices), threads: 2)
        for (p, result) in zip(fineTuned, embedding.classify(paths, threads: 2)) {
            let q = try result.get()
            #expect(zip(p, q).allSatisfy { abs($0 - $1) < 1e-4 }, "\(p) vs \(q)")
        }
    }

    /// Multi-label LP-FT starts from one binary regression per tag: before any step, each tag's
    /// sigmoid from the head equals that tag's two-class probability from its own standardised
    /// fit (Float head against Double regressions, 1e-4); after one epoch the scores are
    /// probabilities, not summing to 1 across tags; targets of the wrong kind or width are a
    /// clear error.
    @Test func multiLabelProbesHeadPredictsAsThePerTagRegressions() throws {
        let folder = try temporaryFolder("multi-label-head")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        let cache = Locations.cacheDirectory()
        let tags: [[Float]] = labels.enumerated().map { i, m in [m < 2 ? 1 : 0, m % 2 == 0 ? 1 : 0, i % 3 == 0 ? 1 : 0]
        }
        let maps = try FrontEndMaps(
            model: .msdMusicnn, paths: paths, seconds: 30, cache: cache, threads: 2, progress: false, persist: false)
        var settings = FineTunedMusicnn.Settings.probeStart
        (settings.classes, settings.multiLabel) = (3, true)
        let net = MusicnnNetwork(.musicnn, outputs: 3, seed: 1)
        try net.loadNamed(
            try PretrainedModel.msdMusicnn.load(cache: cache).namedTensors().filter {
                !$0.key.hasPrefix("\(net.network.layers.count - 1).")
            }, path: "MSD_musicnn", skippingMissing: true)
        let model = FineTunedMusicnn(settings: settings, net: net)
        var generator = SeededGenerator(seed: 1)
        let folds = CrossValidation.groupKFold(groups: artists, folds: 5, generator: &generator)
        let clips = Array(paths.indices)
        _ = try model.setHeadFromProbe(maps: maps, train: clips, targets: .tags(tags), folds: folds, threads: 2)
        let fromHead = model.probabilities(maps: maps, clips: clips, threads: 2)
        let features = net.clipOutputs(maps: maps, clips: clips, upTo: net.embeddingEnd, threads: 2).map {
            $0.map(Double.init)
        }
        for t in 0..<3 {
            let (scaler, regression, _) = try PenaltySearch.fit(
                x: features, labels: tags.map { $0[t] > 0 ? 1 : 0 }, classes: 2, folds: folds, threads: 1)
            for (c, row) in features.enumerated() {
                let expected = regression.probabilities(scaler.transform(row))[1]
                #expect(abs(Double(fromHead[c][t]) - expected) < 1e-4, "tag \(t), clip \(c)")
            }
        }
        (settings.unfrozenEpochs, settings.batchSize, settings.finderSteps) = (1, 4, 4)
        let (trained, record) = try FineTunedMusicnn.train(
            maps: maps, train: clips, tags: tags, probeFolds: folds, settings: settings, cache: cache, threads: 2)
        #expect(record.history.count == 1 && record.history[0].trainLoss.isFinite)
        let scores = trained.probabilities(maps: maps, clips: clips, threads: 2)
        #expect(scores.allSatisfy { $0.count == 3 && $0.allSatisfy { (0...1).contains($0) } })
        #expect(scores.contains { abs($0.reduce(0, +) - 1) > 1e-3 })
        #expect(throws: InvalidParameter.self) {
            _ = try FineTunedMusicnn.train(
                maps: maps, train: clips, labels: labels, probeFolds: folds, settings: settings, cache: cache,
                threads: 2)
        }
        #expect(throws: InvalidParameter.self) {
            _ = try FineTunedMusicnn.train(
                maps: maps, train: clips, tags: tags.map { Array($0.prefix(2)) }, probeFolds: folds,
                settings: settings, cache: cache, threads: 2)
        }
    }

    /// A model.json written before the head-start option (no `headStart`, no `unfrozenRate`)
    /// still loads, as fastai's procedure; LP-FT's settings round-trip.
    @Test func settingsWithoutTheNewFieldsStillDecode() throws {
        let encoder = JSONEncoder()
        var old = try JSONSerialization.jsonObject(with: encoder.encode(FineTunedMusicnn.Settings())) as! [String: Any]
        old["headStart"] = nil
        old["unfrozenRate"] = nil
        let decoded = try JSONDecoder().decode(
            FineTunedMusicnn.Settings.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded == FineTunedMusicnn.Settings() && decoded.headStart == nil)
        let probe = FineTunedMusicnn.Settings.probeStart
        #expect(try JSONDecoder().decode(FineTunedMusicnn.Settings.self, from: encoder.encode(probe)) == probe)
    }

    /// Fine-tuning from the probe trains only the unfrozen stage and records the probe's `C`;
    /// without artists its penalty search cannot be grouped: a clear error, not a guess.
    @Test func fineTuningFromTheProbeTrainsAndNeedsArtists() throws {
        let folder = try temporaryFolder("probe-groups")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        var training = FineTunedMusicnn.Settings.probeStart
        (training.unfrozenEpochs, training.batchSize, training.finderSteps) = (1, 4, 12)
        let settings = FineTunedMoodModel.Settings(moods: ["happy", "sad", "calm", "energetic"], training: training)
        #expect(throws: InvalidParameter.self) {
            _ = try FineTunedMoodModel.train(
                paths: paths, labels: labels, settings: settings, cache: Locations.cacheDirectory(), threads: 1)
        }
        let (_, record) = try FineTunedMoodModel.train(
            paths: paths, labels: labels, groups: artists, settings: settings, cache: Locations.cacheDirectory(),
            threads: 2)
        #expect(record.history.count == 1)
        #expect(record.probePenalty.map(PenaltySearch.grid.contains) == true && record.frozenFinder == nil)
    }

    /// With the front end trained (LP-FT, one epoch): the front end's weights move, the input's
    /// batch norm keeps its pretrained numbers (``MusicnnNetwork/fixInput()``), the loss stays
    /// finite and each clip's probabilities from its log-mel sum to 1; without log-mels the
    /// call is a clear error.
    @Test func trainingTheFrontEndMovesItButNotTheInputNorm() throws {
        let folder = try temporaryFolder("front-end")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        let cache = Locations.cacheDirectory()
        let maps = try FrontEndMaps(
            model: .msdMusicnn, paths: paths, seconds: 30, cache: cache, threads: 2, progress: false, persist: false)
        let mels = try ClipLogMels(paths: paths, seconds: 30, threads: 2, progress: false)
        #expect(mels.frames == maps.frames)
        var settings = FineTunedMusicnn.Settings.probeStart
        settings.trainFrontEnd = true
        (settings.unfrozenEpochs, settings.batchSize, settings.finderSteps) = (1, 4, 4)
        var generator = SeededGenerator(seed: 1)
        let folds = CrossValidation.groupKFold(groups: artists, folds: 5, generator: &generator)
        let clips = Array(paths.indices)
        #expect(throws: InvalidParameter.self) {
            _ = try FineTunedMusicnn.train(
                maps: maps, train: clips, labels: labels, probeFolds: folds, settings: settings, cache: cache,
                threads: 2)
        }
        let (model, record) = try FineTunedMusicnn.train(
            maps: maps, logMels: mels, train: clips, labels: labels, probeFolds: folds, settings: settings,
            cache: cache, threads: 2)
        try expectTrainedWhole(model, record, from: .msdMusicnn, mels: mels, clips: clips, cache: cache)
    }

    /// A VGG base fine-tunes blocks 3-5 and the head on the cached block-2 maps: the head starts
    /// as the probe, blocks 1-2 keep the released numbers, block 3 moves and the probabilities
    /// sum to 1; pool 2's dropout trains with them, and block 3 skips the map's gradient. With
    /// `trainFrontEnd` it trains whole from log-mels instead (the input norm keeps
    /// its numbers); without maps and without `trainFrontEnd` it is a clear error.
    @Test func aVGGBaseFineTunesOnItsMapsOrWhole() throws {
        let folder = try temporaryFolder("vgg")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        let cache = Locations.cacheDirectory()
        let mels = try ClipLogMels(paths: paths, seconds: 30, threads: 2, progress: false)
        let maps = try FrontEndMaps(
            model: .msdVGG, paths: paths, seconds: 30, cache: cache, threads: 2, progress: false, persist: false)
        var settings = FineTunedMusicnn.Settings.probeStart
        settings.base = .msdVGG
        (settings.unfrozenEpochs, settings.batchSize, settings.finderSteps) = (1, 4, 4)
        var generator = SeededGenerator(seed: 1)
        let folds = CrossValidation.groupKFold(groups: artists, folds: 5, generator: &generator)
        let clips = Array(paths.indices)
        #expect(throws: InvalidParameter.self) {
            _ = try FineTunedMusicnn.train(
                maps: nil, logMels: mels, train: clips, labels: labels, probeFolds: folds, settings: settings,
                cache: cache, threads: 2)
        }
        let (onMaps, mapsRecord) = try FineTunedMusicnn.train(
            maps: maps, train: clips, labels: labels, probeFolds: folds, settings: settings, cache: cache, threads: 2)
        #expect(mapsRecord.probePenalty != nil)
        #expect(mapsRecord.history.count == 1 && mapsRecord.history.allSatisfy { $0.trainLoss.isFinite })
        let pretrained = try PretrainedModel.msdVGG.load(cache: cache).network.layers
        let trained = onMaps.net.network.layers
        let values = { (layer: Layer) in layer.parameters.map(\.value.values) }
        for i in onMaps.net.groups[0] { #expect(values(trained[i]) == values(pretrained[i]), "layer \(i) is frozen") }
        #expect(trained[onMaps.net.groups[1].lowerBound] is Dropout, "pool 2's dropout trains with blocks 3-5")
        let block3 = try #require(onMaps.net.groups[1].first { trained[$0] is Conv2D })
        #expect(values(trained[block3]) != values(pretrained[block3]))
        #expect((trained[block3] as? Conv2D)?.computesInputGradient == false, "the frozen map needs no gradient")
        for p in onMaps.probabilities(maps: maps, clips: clips, threads: 2) { #expect(abs(p.reduce(0, +) - 1) < 1e-4) }

        settings.trainFrontEnd = true
        let (model, record) = try FineTunedMusicnn.train(
            maps: nil, logMels: mels, train: clips, labels: labels, probeFolds: folds, settings: settings,
            cache: cache, threads: 2)
        #expect(record.probePenalty != nil)
        try expectTrainedWhole(model, record, from: .msdVGG, mels: mels, clips: clips, cache: cache)
    }

    /// A VGG map (blocks 1-2 over the whole clip) cut at frame `4k` is the patch at `4k` run
    /// alone, except its first and last rows, where the patch alone sees zero padding (Float16
    /// storage: within 2e-3 relative); a start between rows rounds down to the row.
    @Test func aVGGMapsWindowIsItsPatchAwayFromTheEdges() throws {
        let folder = try temporaryFolder("vgg-map")
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 3)
        let samples = (0..<16000 * 8).map { i -> Float in
            let t = Double(i) / 16000
            let noise = Double(generator.next() % 2001) / 1000 - 1
            return Float(0.3 * sin(2 * .pi * (200 + 300 * t) * t) * (1 + sin(3 * t)) / 2 + 0.05 * noise)
        }
        let url = folder.appendingPathComponent("sweep.wav")
        try wavData(samples, channels: 1, sampleRate: 16000).write(to: url)
        let cache = Locations.cacheDirectory()
        let maps = try FrontEndMaps(
            model: .msdVGG, paths: [url.path], seconds: 30, cache: cache, threads: 1, progress: false, persist: false)
        #expect(maps.windowShape == [128, 46, 24])
        let mels = try ClipLogMels(paths: [url.path], seconds: 30, threads: 1, progress: false)
        #expect(mels.frames == maps.frames)
        let net = try PretrainedModel.msdVGG.load(cache: cache)
        let (rows, width) = (46, 24), size = 128 * rows * width
        var window = [Float](repeating: 0, count: size), shifted = window
        for start in [0, 100, (maps.frames[0] - 187) / 4 * 4] {
            let patch = Tensor(shape: [1, 1, 187, 96])
            mels.window(0, start: start, into: patch.data)
            var y = patch
            for layer in net.network.layers[net.groups[0]] { y = layer.forward(y, training: false) }
            #expect(y.shape == [1, 128, rows, width])
            maps.window(0, start: start, into: &window)
            var worst = 0.0
            for c in 0..<128 {
                for r in 1..<(rows - 1) {
                    for f in 0..<width {
                        let i = (c * rows + r) * width + f
                        worst = max(worst, Double(abs(window[i] - y.data[i])) / max(1, Double(abs(y.data[i]))))
                    }
                }
            }
            #expect(worst < 2e-3, "start \(start): \(worst)")
            maps.window(0, start: start + 3, into: &shifted)
            #expect(shifted == window, "start \(start + 3) rounds down to the row of \(start)")
        }
    }

    /// One epoch ran with a finite loss; the input norm (layer 0) kept `base`'s numbers and the
    /// layer reading it (layer 1) moved; each clip's probabilities from its log-mel sum to 1.
    func expectTrainedWhole(
        _ model: FineTunedMusicnn, _ record: FineTunedMusicnn.Record, from base: PretrainedModel, mels: ClipLogMels,
        clips: [Int], cache: URL
    ) throws {
        #expect(record.history.count == 1 && record.history.allSatisfy { $0.trainLoss.isFinite })
        let pretrained = try base.load(cache: cache).network.layers
        let trained = model.net.network.layers
        let values = { (layer: Layer) in layer.parameters.map(\.value.values) }
        #expect(values(trained[0]) == values(pretrained[0]), "the input norm keeps its numbers")
        #expect(values(trained[1]) != values(pretrained[1]), "the layer reading the input trains")
        for p in model.probabilities(logMels: mels, clips: clips, threads: 2) {
            #expect(abs(p.reduce(0, +) - 1) < 1e-4)
        }
    }

    /// The embedding model (frozen musicnn + logistic regression) learns two clearly different
    /// sounds, saves, loads as its kind and classifies the same; a bad file fails alone.
    @Test func embeddingModelSaveLoadClassify() throws {
        let folder = try temporaryFolder("embedding")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (paths, labels, artists) = try toneClips(in: folder, count: 10, seconds: 4)
        var settings = EmbeddingMoodModel.Settings(moods: ["happy", "sad", "calm", "energetic"], base: .msdMusicnn)
        settings.grid = [0.1, 1]
        let (model, losses) = try EmbeddingMoodModel.train(
            paths: paths, labels: labels, groups: artists, settings: settings,
            cache: Locations.cacheDirectory(), threads: 2)
        #expect(losses.count == 2 && losses.allSatisfy(\.isFinite))
        #expect(model.settings.penalty != nil)
        let saved = folder.appendingPathComponent("model")
        try model.save(to: saved)
        let loaded = try MoodModels.load(from: saved)
        #expect(loaded is EmbeddingMoodModel)
        let broken = folder.appendingPathComponent("broken.mp3")
        try Data("not audio".utf8).write(to: broken)
        let a = model.classify(paths + [broken.path], threads: 2),
            b = loaded.classify(paths + [broken.path], threads: 1)
        for (x, y) in zip(a.prefix(10), b.prefix(10)) {
            let (p, q) = (try x.get(), try y.get())
            #expect(p == q, "\(p) vs \(q)")
        }
        #expect(throws: InputError.self) { try b[10].get() }
        // Low and high tones told apart on the training clips.
        for (i, r) in b.prefix(10).enumerated() {
            let p = try r.get()
            #expect(p.indices.max { p[$0] < p[$1] } == labels[i])
        }
    }
}

/// `count` WAV clips at 16 kHz alternating a low (220 Hz, labelled calm = 2) and a high
/// (2500 Hz, energetic = 3) tone, two clips per "artist": sounds any pretrained body tells apart.
func toneClips(in folder: URL, count: Int, seconds: Double) throws -> (
    paths: [String], labels: [Int], artists: [String]
) {
    var paths = [String](), labels = [Int](), artists = [String]()
    for i in 0..<count {
        let url = folder.appendingPathComponent("clip\(i).wav")
        try wavData(sine(i % 2 == 0 ? 220 : 2500, seconds: seconds, sampleRate: 16000), channels: 1, sampleRate: 16000)
            .write(to: url)
        paths.append(url.path)
        labels.append(i % 2 == 0 ? 2 : 3)
        artists.append("artist \(i / 2)")
    }
    return (paths, labels, artists)
}
