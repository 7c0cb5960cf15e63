import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// Batch norm's two summation orders: `.lanes` (the oneDNN backends') against `.sequential`
/// (the reference's) and against a Double reference.
@Suite struct SummationTests {
    /// A batch norm's output, input gradient and parameter gradients after one training step.
    static func step(_ summation: Summation, x: Tensor, dy: Tensor) -> [[Float]] {
        let bn = BatchNorm2D(x.shape[1])
        bn.summation = summation
        for c in 0..<bn.channels { bn.gamma.value[c] = 0.7 + 0.2 * Float(c); bn.beta.value[c] = 0.1 * Float(c) }
        let y = bn.forward(x, training: true).values
        let dx = bn.backward(dy).values
        return [y, dx, bn.gamma.gradient.values, bn.beta.gradient.values, bn.runningVariance.values]
    }

    /// Planes of 50 x 333 values (16 does not divide them: the scalar tails run) with an offset
    /// of 3 (the shifted sums' reason to exist), in both orders: within 1e-4 of a Double
    /// computation, and not bit-identical to each other (the lanes path ran).
    @Test func lanesAgreeWithTheSequentialOrderToRounding() {
        var g = SeededGenerator(seed: 4)
        let shape = [3, 2, 50, 333], count = shape.reduce(1, *)
        let x = Tensor(shape: shape, values: (0..<count).map { _ in 3 + g.nextNormal() })
        let dy = Tensor(shape: shape, values: (0..<count).map { _ in g.nextNormal() })
        let sequential = Self.step(.sequential, x: x, dy: dy), lanes = Self.step(.lanes, x: x, dy: dy)
        let exact = referenceBatchNorm(
            x.values.map(Double.init), shape: shape, gamma: [0.7, 0.9], beta: [0, 0.1])
        for (name, result) in [("sequential", sequential), ("lanes", lanes)] {
            let worst = zip(result[0], exact).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-4, "\(name): output off by \(worst)")
        }
        for (k, (a, b)) in zip(sequential, lanes).enumerated() {
            let scale = a.map { abs(Double($0)) }.max()!
            let worst = zip(a, b).map { abs(Double($0) - Double($1)) }.max()!
            #expect(worst <= 1e-5 * max(scale, 1), "record \(k): the orders differ by \(worst) (scale \(scale))")
        }
        let differing = zip(sequential[1], lanes[1]).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing > 0, "the lanes order gave the sequential order's bits: was it used?")
    }

    /// The backend sets the order: the reference keeps the reports' bits, oneDNN takes lanes.
    @Test func theTrainingBackendChoosesTheOrder() {
        let model = MoodCNN(classes: 4, seed: 1)
        let norms = model.network.layers.compactMap { $0 as? BatchNorm2D }
        #expect(!norms.isEmpty && norms.allSatisfy { $0.summation == .sequential })
        model.network.setTrainingBackend(.oneDNN)
        #expect(norms.allSatisfy { $0.summation == .lanes })
        model.network.setTrainingBackend(.reference)
        #expect(norms.allSatisfy { $0.summation == .sequential })
    }
}
