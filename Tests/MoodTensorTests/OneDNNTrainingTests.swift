import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// The opt-in oneDNN training convolution against the reference Conv2D on the same layer,
/// input and output gradient: forward, input gradient, weight and bias gradients. Shapes:
/// MoodCNN's four convolutions (smaller planes), the musicnn mid end's 7x1, VGG's 128-channel
/// 3x3, a strided one without bias; one and two threads. Tolerance as for inference: 1e-4 of the
/// reference's largest magnitude (sums of up to 128 x 9 x 32 x 40 terms in another order).
@Suite struct OneDNNTrainingTests {
    typealias Shape = OneDNNConvolutionTests.Shape
    static let shapes: [Shape] = [
        Shape(batch: 3, cin: 1, cout: 32, h: 24, w: 80, kh: 3, kw: 3, ph: 1, pw: 1, bias: false),  // MoodCNN conv 1
        Shape(batch: 3, cin: 32, cout: 64, h: 12, w: 20, kh: 3, kw: 3, ph: 1, pw: 1, bias: false),  // MoodCNN conv 2
        Shape(batch: 2, cin: 64, cout: 128, h: 6, w: 5, kh: 3, kw: 3, ph: 1, pw: 1, bias: false),  // MoodCNN conv 3
        Shape(batch: 2, cin: 561, cout: 64, h: 40, w: 1, kh: 7, kw: 1, ph: 3),  // musicnn mid end
        Shape(batch: 2, cin: 128, cout: 128, h: 23, w: 12, kh: 3, kw: 3, ph: 1, pw: 1),  // VGG block 4
        Shape(batch: 3, cin: 5, cout: 7, h: 13, w: 11, kh: 3, kw: 2, sh: 2, sw: 3, ph: 1, pw: 1, bias: false),
    ]

    @Test(arguments: shapes, [1, 2])
    func matchesTheReferencePasses(shape: Shape, threads: Int) {
        func run(_ backend: TrainingBackend) -> (Conv2D, [[Float]]) {
            let (conv, x) = OneDNNConvolutionTests().layer(shape, seed: 3)
            conv.threads = threads
            conv.trainingBackend = backend
            let y = conv.forward(x, training: true)
            var g = SeededGenerator(seed: 5)
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { _ in g.nextNormal() })
            let outputs = y.values
            let dx = conv.backward(dy).values
            return (conv, [outputs, dx, conv.weight.gradient.values, conv.bias?.gradient.values ?? []])
        }
        let (reference, expected) = run(.reference)
        let (fast, got) = run(.oneDNN)
        #expect(reference.oneDNNTrainingImplementations == nil)
        #expect(fast.oneDNNTrainingImplementations != nil, "oneDNN was not used")
        #expect(!fast.oneDNNTrainingFailed)
        for (name, (a, b)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(got, expected))
        {
            #expect(a.count == b.count, "\(name): \(a.count) values, reference \(b.count)")
            guard !b.isEmpty, a.count == b.count else { continue }
            let scale = max(b.map(abs).max()!, 1e-12)
            let error = zip(a, b).map { abs($0 - $1) }.max()! / scale
            #expect(error < 1e-4, "\(name): relative error \(error)")
        }
    }

    /// A first layer (no input gradient wanted) builds no backward-data primitive and still
    /// gives the reference's weight gradient.
    @Test func firstLayerSkipsTheInputGradient() {
        func weightGradient(_ backend: TrainingBackend) -> (Conv2D, [Float]) {
            let (conv, x) = OneDNNConvolutionTests().layer(Self.shapes[0], seed: 3)
            conv.computesInputGradient = false
            conv.trainingBackend = backend
            let y = conv.forward(x, training: true)
            _ = conv.backward(Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 5) - 2 }))
            return (conv, conv.weight.gradient.values)
        }
        let (_, expected) = weightGradient(.reference)
        let (fast, got) = weightGradient(.oneDNN)
        #expect(fast.oneDNNTrainingImplementations?[1] == "?", "a backward-data primitive was built")
        #expect(!fast.oneDNNTrainingFailed)
        let scale = expected.map(abs).max()!
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
    }

    /// Gradients add up over steps as the reference's do (the oneDNN primitive overwrites its
    /// buffers; the layer must add them to what the parameters already hold).
    @Test func gradientsAccumulateOverTwoBackwardPasses() {
        let shape = Self.shapes[1]
        let (conv, x) = OneDNNConvolutionTests().layer(shape, seed: 3)
        conv.trainingBackend = .oneDNN
        let y = conv.forward(x, training: true)
        let dy = Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 7) - 3 })
        _ = conv.backward(dy)
        let once = conv.weight.gradient.values
        _ = conv.forward(x, training: true)
        _ = conv.backward(dy)
        let twice = conv.weight.gradient.values
        let scale = once.map(abs).max()!
        #expect(zip(once, twice).allSatisfy { abs(2 * $0 - $1) <= 1e-5 * scale })
    }

    /// Round to the nearest bfloat16, ties to even (what oneDNN's fp32 -> bf16 reorder does).
    static func bfloat16(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    /// oneDNN has bf16 kernels from AVX-512 (BW) up; elsewhere the layer falls back to fp32.
    static let hasBF16Kernels =
        ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").contains("avx512bw")

    /// Mixed precision against an exact model of it: the reference passes run in fp32 on the
    /// input, weights and output gradient rounded to bfloat16. Products of two bf16 values are
    /// exact in fp32, so only the order of the fp32 sums differs: the same 1e-4 as fp32. Against
    /// the unrounded reference the error is that of 8-bit inputs (about 1e-2), so this test tells
    /// the rounding happened. Below 16 input channels the layer stays fp32 (MoodCNN's conv 1).
    @Test(.enabled(if: hasBF16Kernels), arguments: [shapes[0], shapes[1], shapes[2], shapes[4]])
    func bf16MatchesTheReferenceOnRoundedOperands(shape: Shape) {
        let rounds = shape.cin >= 16
        func run(_ backend: TrainingBackend, round: Bool) -> (Conv2D, [[Float]]) {
            let (conv, x) = OneDNNConvolutionTests().layer(shape, seed: 3)
            conv.threads = 2
            conv.trainingBackend = backend
            let r = { (v: Float) in round ? Self.bfloat16(v) : v }
            if round {
                for i in 0..<x.count { x.data[i] = r(x.data[i]) }
                for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = r(conv.weight.value.data[i]) }
            }
            let y = conv.forward(x, training: true)
            var g = SeededGenerator(seed: 5)
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { _ in r(g.nextNormal()) })
            let outputs = y.values
            let dx = conv.backward(dy).values
            return (conv, [outputs, dx, conv.weight.gradient.values, conv.bias?.gradient.values ?? []])
        }
        let (_, exact) = run(.reference, round: rounds)
        let (_, unrounded) = run(.reference, round: false)
        let (fast, got) = run(.oneDNNBF16, round: false)
        #expect(!fast.oneDNNTrainingFailed, "oneDNN could not build the bf16 primitives")
        #expect(fast.oneDNNTrainingImplementations != nil, "oneDNN was not used")
        func error(_ a: [Float], _ b: [Float]) -> Float {
            zip(a, b).map { abs($0 - $1) }.max()! / max(b.map(abs).max()!, 1e-12)
        }
        var largestUnrounded: Float = 0
        for (k, name) in ["output", "input gradient", "weight gradient", "bias gradient"].enumerated()
        where !exact[k].isEmpty {
            #expect(error(got[k], exact[k]) < 1e-4, "\(name): relative error \(error(got[k], exact[k]))")
            largestUnrounded = max(largestUnrounded, error(got[k], unrounded[k]))
        }
        if rounds {
            #expect(largestUnrounded > 1e-4, "no sign of bf16 rounding (\(largestUnrounded) from fp32)")
            #expect(largestUnrounded < 3e-2, "further from fp32 than bf16 explains: \(largestUnrounded)")
        }
    }
}
