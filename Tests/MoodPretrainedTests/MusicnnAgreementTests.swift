import Foundation
import MoodAudio
import MoodCore
@testable import MoodPretrained
import MoodSpectrogram
import MoodTensor
import Testing

func fixture(_ name: String) throws -> String {
    guard let path = Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures") else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }
    return path
}

let weightsPresent = PretrainedModel.allCases.allSatisfy { $0.isAvailable(cache: Locations.cacheDirectory()) }
let weightsAbsent: Comment =
    "musicnn weights absent: run scripts/setup, or set MOODDEX_CACHE_DIR to a cache holding pretrained/musicnn-0.1.0"

/// The largest difference between two arrays, relative to the reference's largest magnitude.
func relativeError(_ ours: [Float], _ reference: [Float]) -> Float {
    precondition(ours.count == reference.count, "\(ours.count) values vs \(reference.count)")
    let scale = max(reference.map(abs).max() ?? 0, 1e-12)
    return zip(ours, reference).map { abs($0 - $1) }.max()! / scale
}

/// musicnn's input recipe against librosa + numpy (`Tests/Scripts/musicnn_reference.py`).
@Suite struct MusicnnInputTests {
    /// Our log-mel of the fixture WAVs against librosa's with musicnn's compression: both
    /// round the power to float16, so values agree to Float32 rounding (relative 1e-5: FFT and
    /// filterbank sums in another order move a power across a float16 step only rarely).
    @Test(arguments: ["a", "b"])
    func logMelMatchesLibrosa(clip: String) throws {
        let reference = try NPYArray(contentsOf: try fixture("mel-\(clip).npy"))
        let audio = try AudioFile.decode(try fixture("clip-\(clip).wav"), sampleRate: MusicnnInput.sampleRate)
        let ours = MusicnnInput.logMel(audio.samples, with: try LogMelSpectrogram(MusicnnInput.parameters))
        #expect([ours.frames, MusicnnInput.melBands] == reference.shape)
        let theirs = reference.floats
        var differing = 0, worst: Float = 0
        for (a, b) in zip(ours.values, theirs) {
            let d = abs(a - b)
            if d > 1e-5 * max(abs(b), 1) { differing += 1 }
            worst = max(worst, d)
        }
        // Where the two powers round to neighbouring float16 values (a step is at most 2^-10 of
        // the value), log10(1 + 10000 x) moves by at most 2^-10 / ln 10 = 4.2e-4.
        #expect(worst <= 4.3e-4, "worst difference \(worst)")
        #expect(
            Double(differing) / Double(theirs.count) < 0.01,
            "\(differing) of \(theirs.count) values differ by more than rounding")
    }

    /// Loud bins, where NumPy 2 would overflow float16 to infinity, stay finite and ordered.
    @Test func loudBinsStayFinite() {
        let powers: [Float] = [6.5, 6.55, 6.56, 100, 1e4]
        let values = powers.map(MusicnnInput.compress)
        #expect(values.allSatisfy { $0.isFinite }, "\(values)")
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "\(values)")
        #expect(abs(values[4] - 8) < 1e-4)
    }

    @Test func patchesAreNonOverlappingAndDropTheRemainder() {
        let frames = 2 * 187 + 33
        let mel = (values: (0..<(frames * 96)).map(Float.init), frames: frames)
        let (patches, count) = MusicnnInput.patches(mel)
        #expect(count == 2)
        #expect(patches.count == 2 * 187 * 96)
        #expect(MusicnnInput.patch(mel, at: 187) == Array(patches[(187 * 96)...]))
    }
}

/// The Swift networks with the released weights against TensorFlow running the original
/// checkpoints on the same input (the reference log-mel, so only the network is compared).
/// Tolerances: 1e-4 absolute on sigmoid outputs, 1e-4 relative on penultimate features.
@Suite(.enabled(if: weightsPresent, weightsAbsent))
struct MusicnnAgreementTests {
    static let cache = Locations.cacheDirectory()

    @Test(arguments: PretrainedModel.allCases)
    func taggramAndPenultimateMatchTensorFlow(model: PretrainedModel) throws {
        let tagger = try Tagger(model, cache: Self.cache, threads: 2, batchSize: 2)
        for clip in ["a", "b"] {
            let mel = try NPYArray(contentsOf: try fixture("mel-\(clip).npy"))
            let (patches, count) = MusicnnInput.patches((mel.floats, mel.shape[0]))
            let taggram = tagger.taggram(patches: patches, count: count).flatMap { $0 }
            let reference = try NPYArray(contentsOf: try fixture("taggram-\(model)-\(clip).npy"))
            let worst = zip(taggram, reference.floats).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4, "\(model) clip \(clip): taggram differs by \(worst)")

            var penultimate = tagger.embeddings(patches: patches, count: count).flatMap { $0 }
            let expected = try NPYArray(contentsOf: try fixture("penultimate-\(model)-\(clip).npy")).floats
            if model.architecture == .vgg {  // our flatten is channel-major (c * 2 + h), TensorFlow's h * 128 + c
                let ours = penultimate
                penultimate = (0..<(count * 256)).map { i -> Float in
                    let p = i / 256, j = i % 256
                    return ours[p * 256 + (j % 128) * 2 + j / 128]
                }
            }
            let error = relativeError(penultimate, expected)
            #expect(error <= 1e-4, "\(model) clip \(clip): penultimate differs by \(error) relative")
        }
    }

    /// The front end's 561 features per frame, for locating a disagreement quickly.
    @Test func musicnnFrontEndMatchesTensorFlow() throws {
        let net = try PretrainedModel.msdMusicnn.load(cache: Self.cache)
        let mel = try NPYArray(contentsOf: try fixture("mel-a.npy"))
        let (patches, count) = MusicnnInput.patches((mel.floats, mel.shape[0]))
        let x = Tensor(shape: [count, 1, 187, 96], values: patches)
        var y = x
        for layer in net.network.layers[0..<2] { y = layer.forward(y, training: false) }  // input norm, branches
        // Ours [N, 561, T, 1]; the reference [N, T, 561].
        var ours = [Float](repeating: 0, count: count * 187 * 561)
        for n in 0..<count {
            for t in 0..<187 { for c in 0..<561 { ours[(n * 187 + t) * 561 + c] = y.data[(n * 561 + c) * 187 + t] } }
        }
        let reference = try NPYArray(contentsOf: try fixture("frontend-MSD_musicnn-a.npy")).floats
        #expect(relativeError(ours, reference) <= 1e-4)
    }

    /// Clip embeddings (computed on worker threads, cached per file) are the mean of the
    /// tagger's per-patch penultimate features, and a second call reads the same from the cache.
    @Test func clipEmbeddingsAreThePatchMean() throws {
        let clips = [try fixture("clip-a.wav"), try fixture("clip-b.wav")]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mooddex-embeddings-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("pretrained"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent(PretrainedModel.unpackedFolder),
            withDestinationURL: Self.cache.appendingPathComponent(PretrainedModel.unpackedFolder))
        let first = try ClipEmbeddings.compute(
            model: .msdVGG, paths: clips, seconds: 30, cache: folder, threads: 2, progress: false)
        let again = try ClipEmbeddings.compute(
            model: .msdVGG, paths: clips, seconds: 30, cache: folder, threads: 2, progress: false)
        #expect(first == again)
        let tagger = try Tagger(.msdVGG, cache: folder, threads: 1, batchSize: 2)
        let computer = try LogMelSpectrogram(MusicnnInput.parameters)
        for (k, path) in clips.enumerated() {
            let (patches, count) = MusicnnInput.patches(try MusicnnInput.logMel(file: path, with: computer))
            let rows = tagger.embeddings(patches: patches, count: count)
            let mean = (0..<256).map { j in rows.map { $0[j] }.reduce(0, +) / Float(count) }
            #expect(relativeError(first[k], mean) <= 1e-5)
        }
    }

    /// Loading twice goes through the safetensors copy the first load wrote, with the same weights.
    @Test func convertedCopyLoadsTheSameWeights() throws {
        let a = try PretrainedModel.msdVGG.load(cache: Self.cache),
            b = try PretrainedModel.msdVGG.load(cache: Self.cache)
        for (p, q) in zip(a.network.parameters, b.network.parameters) {
            #expect(p.value.values == q.value.values, "\(p.name)")
        }
    }
}

/// The mid end's backward (residual and dense connections) against central differences of
/// its forward pass, on a small instance in evaluation mode (batch norm as a fixed affine map;
/// its training-mode gradient is checked in MoodTensorTests). Float, step 1e-2: tolerance 1e-2.
@Suite struct MusicnnMidEndTests {
    @Test func backwardMatchesFiniteDifferences() {
        var g = SeededGenerator(seed: 4)
        let mid = MusicnnMidEnd(inChannels: 3, filters: 2, generator: &g)
        for p in mid.parameters { for i in 0..<p.value.count { p.value[i] = 0.5 * g.nextNormal() } }
        let shape = [2, 3, 6, 1]
        let x = Tensor(shape: shape, values: (0..<36).map { _ in g.nextNormal() })
        let y = mid.forward(x, training: false)
        #expect(y.shape == [2, 9, 6, 1])
        let upstream = (0..<y.count).map { _ in g.nextNormal() }
        let dx = mid.backward(Tensor(shape: y.shape, values: upstream)).values
        func objective(_ values: [Float]) -> Double {
            let out = mid.forward(Tensor(shape: shape, values: values), training: false)
            return zip(out.values, upstream).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 1e-2
        var worst = 0.0, largest = 0.0
        for i in 0..<x.count {
            var plus = x.values, minus = x.values
            plus[i] += h; minus[i] -= h
            let numeric = (objective(plus) - objective(minus)) / Double(2 * h)
            largest = max(largest, abs(numeric))
            worst = max(worst, abs(numeric - Double(dx[i])))
        }
        #expect(worst <= 1e-2 * max(1, largest), "worst \(worst), largest \(largest)")
    }
}
