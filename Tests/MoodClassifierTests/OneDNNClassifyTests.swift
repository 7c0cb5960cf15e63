import Foundation
import MoodClassifier
import MoodCore
import MoodPretrained
import MoodTensor
import MoodTestSupport
import Testing

/// `mooddex classify` runs musicnn-based models on oneDNN: the embedding model's probabilities
/// agree with the reference backend's to 1e-4. Works in a temporary cache that links the
/// unpacked checkpoint, so the real cache is only read.
@Suite(
    .enabled(
        if: FileManager.default.fileExists(
            atPath: PretrainedModel.msdMusicnn.checkpointPrefix(cache: Locations.cacheDirectory()) + ".index"),
        "musicnn weights absent: run scripts/setup"))
struct OneDNNClassifyTests {
    @Test func embeddingModelClassifiesAlikeOnOneDNN() throws {
        let folder = try temporaryFolder("onednn-classify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache")
        // The unpacked checkpoint, not the safetensors copy: on a fresh machine that copy is
        // only made on first use, and this test may run first.
        try FileManager.default.createDirectory(
            at: cache.appendingPathComponent("pretrained"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: cache.appendingPathComponent(PretrainedModel.unpackedFolder),
            withDestinationURL: Locations.cacheDirectory().appendingPathComponent(PretrainedModel.unpackedFolder))
        let (paths, labels, artists) = try toneClips(in: folder, count: 6, seconds: 7)
        var settings = EmbeddingMoodModel.Settings(moods: ["happy", "sad", "calm", "energetic"], base: .msdMusicnn)
        settings.grid = [1]
        let (model, _) = try EmbeddingMoodModel.train(
            paths: paths, labels: labels, groups: artists, settings: settings, cache: cache, threads: 2)
        let reference = try model.classify(paths, threads: 2).map { try $0.get() }
        model.inferenceBackend = .oneDNN
        let fast = try model.classify(paths, threads: 2).map { try $0.get() }
        let worst = zip(reference.joined(), fast.joined()).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "oneDNN probabilities differ by \(worst)")
    }
}
