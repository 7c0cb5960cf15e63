import Foundation
import MoodCore
@testable import MoodPretrained
import MoodTensor
import Testing

/// Whole networks with the released weights on the oneDNN backend: the taggram against the
/// reference backend (1e-4 relative to the largest logit-free probability, observed ~1e-6) and
/// against TensorFlow's (1e-4 absolute, as ``MusicnnAgreementTests`` holds the reference to).
/// Reads the weights cache only.
@Suite(.enabled(if: weightsPresent, weightsAbsent))
struct OneDNNMusicnnTests {
    @Test(arguments: [PretrainedModel.msdMusicnn, .msdVGG])
    func oneDNNTaggramMatchesReferenceAndTensorFlow(model: PretrainedModel) throws {
        let cache = Locations.cacheDirectory()
        let reference = try Tagger(model, cache: cache, threads: 2, batchSize: 4)
        let fast = try Tagger(model, cache: cache, threads: 2, batchSize: 4, backend: .oneDNN)
        let mel = try NPYArray(contentsOf: try fixture("mel-a.npy"))
        let (patches, count) = MusicnnInput.patches((mel.floats, mel.shape[0]))
        let ours = reference.taggram(patches: patches, count: count).flatMap { $0 }
        let theirs = fast.taggram(patches: patches, count: count).flatMap { $0 }
        let error = relativeError(theirs, ours)
        #expect(error <= 1e-4, "\(model): oneDNN taggram differs from the reference by \(error) relative")
        let tensorFlow = try NPYArray(contentsOf: try fixture("taggram-\(model)-a.npy")).floats
        let worst = zip(theirs, tensorFlow).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "\(model): oneDNN taggram differs from TensorFlow's by \(worst)")
        let embeddingError = relativeError(
            fast.embeddings(patches: patches, count: count).flatMap { $0 },
            reference.embeddings(patches: patches, count: count).flatMap { $0 })
        #expect(embeddingError <= 1e-4, "\(model): oneDNN penultimate differs by \(embeddingError) relative")
        // Every convolution ran on oneDNN.
        var convolutions = 0, onOneDNN = 0
        func visit(_ layer: Layer) {
            if let conv = layer as? Conv2D { convolutions += 1; if conv.oneDNNImplementation != nil { onOneDNN += 1 } }
            layer.sublayers.forEach(visit)
        }
        visit(fast.net.network)
        #expect(
            convolutions > 0 && onOneDNN == convolutions, "\(onOneDNN) of \(convolutions) convolutions ran on oneDNN")
    }
}
