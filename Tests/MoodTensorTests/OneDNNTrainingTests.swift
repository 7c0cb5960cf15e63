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
}
