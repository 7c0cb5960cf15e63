import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram
import MoodTensor

/// A pretrained network's penultimate features per clip: the mean over the clip's
/// non-overlapping 3-s patches of the first `seconds`, each patch run through the whole
/// network exactly as musicnn's extractor runs it. Cached per file under
/// `<cache>/pretrained/embeddings/<model>/<sha256>-<seconds>-<recipe>.f32`.
public enum ClipEmbeddings {
    public static func compute(
        model: PretrainedModel, paths: [String], seconds: Double, cache: URL,
        threads: Int, progress: Bool
    ) throws -> [[Float]] {
        let folder = cache.appendingPathComponent("pretrained/embeddings/\(model.rawValue)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let workers = max(1, min(threads, paths.count))
        let networks = try (0..<workers).map { _ in try model.load(cache: cache) }
        let results = try ClipWorkers.run(
            paths.count, networks: networks, label: "\(model) embeddings", progress: progress,
            keepGoing: false
        ) { i, net, computer in
            try embedding(paths[i], seconds: seconds, net: net, computer: computer, folder: folder)
        }
        return try results.map { try $0!.get() }
    }

    static func embedding(
        _ path: String, seconds: Double, net: MusicnnNetwork, computer: LogMelSpectrogram, folder: URL
    ) throws -> [Float] {
        let file = folder.appendingPathComponent(
            try SHA256.hex(ofFile: path) + String(format: "-%g-", seconds) + MusicnnInput.recipeVersion + ".f32")
        if let data = FileManager.default.contents(atPath: file.path), data.count == 4 * net.embeddingSize {
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        var mel = try MusicnnInput.logMel(file: path, segment: .first(seconds: seconds), with: computer)
        mel = MusicnnInput.repeatedToOnePatch(mel)
        let (patches, count) = MusicnnInput.patches(mel)
        let y = net.embed(Tensor(shape: [count, 1, MusicnnInput.patchFrames, MusicnnInput.melBands], values: patches))
        let width = y.count / count
        var mean = [Float](repeating: 0, count: width)
        for p in 0..<count { for j in 0..<width { mean[j] += y.data[p * width + j] / Float(count) } }
        try AtomicFile.write(mean.withUnsafeBytes { Data($0) }, to: file)
        return mean
    }
}
