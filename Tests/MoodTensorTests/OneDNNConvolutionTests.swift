import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// The opt-in oneDNN inference convolution against the reference Conv2D forward on the same
/// layer and input, over musicnn's shapes (1 input channel with 7x38, 7x67 and 128x1 kernels on
/// 187 x 96 patches, the temporal ones on input that ZeroPad2D already padded; the mid end's
/// 561 -> 64 7x1) and VGG's 3x3 ones, plus stride 2 and no bias. Tolerance: 1e-4 of the
/// reference's largest magnitude (float sums of up to 4000 terms in another order and with
/// other blocking; observed up to ~1e-6).
@Suite struct OneDNNConvolutionTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var batch: Int, cin: Int, cout: Int, h: Int, w: Int, kh: Int, kw: Int
        var sh = 1, sw = 1, ph = 0, pw = 0
        var bias = true
        var testDescription: String {
            "\(batch)x\(cin)x\(h)x\(w) * \(cout)x\(kh)x\(kw) s\(sh)\(sw) p\(ph)\(pw)\(bias ? "" : " nobias")"
        }
    }

    static let shapes: [Shape] = [
        Shape(batch: 2, cin: 1, cout: 204, h: 187, w: 96, kh: 7, kw: 38, ph: 3),  // timbral 7x38
        Shape(batch: 3, cin: 1, cout: 204, h: 187, w: 96, kh: 7, kw: 67, ph: 3),  // timbral 7x67
        Shape(batch: 2, cin: 1, cout: 51, h: 187 + 127, w: 96, kh: 128, kw: 1),  // temporal 128x1 after ZeroPad2D
        Shape(batch: 2, cin: 1, cout: 51, h: 187 + 31, w: 96, kh: 32, kw: 1),  // temporal 32x1
        Shape(batch: 2, cin: 561, cout: 64, h: 187, w: 1, kh: 7, kw: 1, ph: 3),  // mid end
        Shape(batch: 2, cin: 1, cout: 128, h: 187, w: 96, kh: 3, kw: 3, ph: 1, pw: 1),  // VGG block 1
        Shape(batch: 2, cin: 128, cout: 128, h: 46, w: 24, kh: 3, kw: 3, ph: 1, pw: 1),  // VGG block 3
        Shape(batch: 1, cin: 5, cout: 7, h: 13, w: 11, kh: 3, kw: 2, sh: 2, sw: 3, ph: 1, pw: 1, bias: false),
    ]

    func layer(_ s: Shape, seed: UInt64) -> (Conv2D, Tensor) {
        var g = SeededGenerator(seed: seed)
        let conv = Conv2D(
            s.cin, s.cout, kernel: (s.kh, s.kw), stride: (s.sh, s.sw), padding: (s.ph, s.pw), bias: s.bias,
            generator: &g)
        if let bias = conv.bias { for i in 0..<bias.value.count { bias.value[i] = g.nextNormal() } }
        let x = Tensor(
            shape: [s.batch, s.cin, s.h, s.w], values: (0..<(s.batch * s.cin * s.h * s.w)).map { _ in g.nextNormal() })
        return (conv, x)
    }

    static func relativeError(_ a: Tensor, _ reference: [Float]) -> Float {
        let scale = max(reference.map(abs).max()!, 1e-12)
        return (0..<a.count).map { abs(a.data[$0] - reference[$0]) }.max()! / scale
    }

    @Test(arguments: shapes, [1, 2])
    func matchesReferenceForward(shape: Shape, threads: Int) {
        let (conv, x) = layer(shape, seed: 7)
        conv.threads = threads
        let reference = conv.forward(x, training: false).values
        conv.inferenceBackend = .oneDNN
        let y = conv.forward(x, training: false)
        #expect(y.shape == conv.forward(x, training: true).shape)
        #expect(conv.oneDNNImplementation != nil, "oneDNN was not used")
        let y2 = conv.forward(x, training: false)
        let error = Self.relativeError(y2, reference)
        #expect(
            error <= 1e-4,
            "\(shape.testDescription), \(threads) threads, \(conv.oneDNNImplementation ?? "-"): relative error \(error)"
        )
    }

    /// Training never takes the oneDNN path: its forward gives the reference bits.
    @Test func trainingForwardStaysReference() {
        let (conv, x) = layer(Self.shapes[0], seed: 3)
        let reference = conv.forward(x, training: true).values
        conv.setInferenceBackend(.oneDNN)
        #expect(conv.forward(x, training: true).values == reference)
        _ = conv.forward(x, training: false)
        #expect(conv.forward(x, training: true).values == reference)
    }

    /// Weights changed in place after the primitive was built are reordered again.
    @Test func followsWeightChanges() {
        let (conv, x) = layer(Self.shapes[7], seed: 5)
        conv.inferenceBackend = .oneDNN
        _ = conv.forward(x, training: false)
        for i in 0..<conv.weight.value.count { conv.weight.value[i] *= -2 }
        conv.bias?.value[0] = 10
        let y = conv.forward(x, training: false).values
        conv.inferenceBackend = .reference
        let reference = conv.forward(x, training: false).values
        #expect(Self.relativeError(Tensor(shape: [y.count], values: y), reference) <= 1e-5)
    }

    /// bfloat16 inputs and weights (8 significant bits) with float sums: about 1e-2 relative.
    @Test(arguments: [shapes[0], shapes[4], shapes[6]])
    func bf16IsClose(shape: Shape) {
        let (conv, x) = layer(shape, seed: 11)
        conv.threads = 2
        let reference = conv.forward(x, training: false).values
        conv.inferenceBackend = .oneDNNBF16
        let error = Self.relativeError(conv.forward(x, training: false), reference)
        #expect(error <= 2e-2, "\(shape.testDescription), \(conv.oneDNNImplementation ?? "-"): relative error \(error)")
    }
}
