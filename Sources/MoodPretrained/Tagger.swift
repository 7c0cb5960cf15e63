import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram
import MoodTensor

/// Zero-shot tagging as musicnn's own tagger does it: a file's non-overlapping 3-s patches
/// through the network, sigmoid per tag, averaged over the patches (the "taggram" mean).
public final class Tagger {
    public let model: PretrainedModel
    public let net: MusicnnNetwork
    public let batchSize: Int
    private let computer: LogMelSpectrogram

    /// `backend` `.oneDNN` runs the convolutions on oneDNN: faster, but its numbers depend on the
    /// CPU (see `InferenceBackend`), so experiments and reports keep the default.
    public init(
        _ model: PretrainedModel, cache: URL, threads: Int, batchSize: Int = 16, backend: InferenceBackend = .reference
    ) throws {
        self.model = model
        net = try model.load(cache: cache)
        net.network.setThreads(threads)
        net.network.setInferenceBackend(backend)
        self.batchSize = batchSize
        computer = try LogMelSpectrogram(MusicnnInput.parameters)
    }

    /// Per-patch tag probabilities `[patches][tags]` of compressed log-mel patches `[count, 187, 96]`.
    public func taggram(patches: [Float], count: Int) -> [[Float]] {
        outputs(patches: patches, count: count, embedding: false).map { $0.map(Self.sigmoid) }
    }

    /// Per-patch penultimate features `[patches][200 or 256]`.
    public func embeddings(patches: [Float], count: Int) -> [[Float]] {
        outputs(patches: patches, count: count, embedding: true)
    }

    func outputs(patches: [Float], count: Int, embedding: Bool) -> [[Float]] {
        let size = MusicnnInput.patchFrames * MusicnnInput.melBands
        precondition(patches.count == count * size, "\(patches.count) values do not make \(count) patches of 187 x 96")
        var rows = [[Float]]()
        let x = Tensor(shape: [0])
        for start in stride(from: 0, to: count, by: batchSize) {
            let n = min(batchSize, count - start)
            x.resize([n, 1, MusicnnInput.patchFrames, MusicnnInput.melBands])
            patches.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress! + start * size, count: n * size) }
            let y = embedding ? net.embed(x) : net.network.forward(x, training: false)
            let width = y.count / n
            for i in 0..<n { rows.append(Array(UnsafeBufferPointer(start: y.data + i * width, count: width))) }
        }
        return rows
    }

    /// The mean tag probabilities of (a segment of) an audio file, and how many patches it had.
    public func tags(file path: String, segment: Segment = .whole) throws -> (probabilities: [Float], patches: Int) {
        let mel = try MusicnnInput.logMel(file: path, segment: segment, with: computer)
        let (patches, count) = MusicnnInput.patches(mel)
        guard count > 0 else {
            throw InputError(
                path,
                String(
                    format: "too short to tag: %.2f s, the tagger needs at least one %.2f-s patch",
                    Double(mel.frames - 1) * 256 / Double(MusicnnInput.sampleRate), MusicnnInput.patchSeconds))
        }
        let taggram = self.taggram(patches: patches, count: count)
        var mean = [Float](repeating: 0, count: model.tags.count)
        for row in taggram { for t in 0..<mean.count { mean[t] += row[t] / Float(count) } }
        return (mean, count)
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
}
