import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// Convolutions that read a network's input may skip the input's gradient (as dear as their
/// forward pass): backward then returns an empty tensor, containers stop there, and every
/// parameter gradient after them is the same bits as with the input's gradient computed.
@Suite struct InputGradientTests {
    /// A musicnn-like front end: an input batch norm, then two branches (one zero-padded first)
    /// concatenated, then a dense layer.
    func network(skipping: Bool) -> (Sequential, first: BatchNorm2D, convolutions: [Conv2D]) {
        var g = SeededGenerator(seed: 11)
        let wide = Conv2D(1, 3, kernel: (3, 4), padding: (1, 0), bias: true, generator: &g)
        let tall = Conv2D(1, 2, kernel: (4, 1), padding: (0, 0), bias: true, generator: &g)
        let norm = BatchNorm2D(1)
        let net = Sequential([
            norm,
            Concatenate([
                Sequential([wide, ReLU(), BatchNorm2D(3), MaxPool2D(1, 6)]),
                Sequential([ZeroPad2D.same(kernelHeight: 4), tall, ReLU(), BatchNorm2D(2), MaxPool2D(1, 9)]),
            ]),
            Flatten(), Linear(5 * 7, 2, generator: &g),
        ])
        for conv in [wide, tall] { conv.computesInputGradient = !skipping }
        return (net, norm, [wide, tall])
    }

    @Test func skippingTheInputGradientStopsThereAndKeepsEveryOtherGradientsBits() {
        var g = SeededGenerator(seed: 3)
        let x = Tensor(shape: [3, 1, 7, 9], values: (0..<(3 * 7 * 9)).map { _ in g.nextNormal() })
        let dy = Tensor(shape: [3, 2], values: (0..<6).map { _ in g.nextNormal() })
        let (full, fullNorm, _) = network(skipping: false)
        let (skipped, skippedNorm, _) = network(skipping: true)
        _ = full.forward(x, training: true)
        _ = skipped.forward(x, training: true)
        let fullInput = full.backward(dy), skippedInput = skipped.backward(dy)
        #expect(fullInput.shape == x.shape && fullInput.values.contains { $0 != 0 })
        #expect(skippedInput.count == 0, "no input gradient, not a stale one")
        // The input norm is never differentiated when skipped; everything after it is unchanged.
        #expect(fullNorm.parameters.contains { $0.gradient.values.contains { $0 != 0 } })
        #expect(skippedNorm.parameters.allSatisfy { $0.gradient.values.allSatisfy { $0 == 0 } })
        let after = Array(zip(full.parameters, skipped.parameters).dropFirst(fullNorm.parameters.count))
        #expect(after.count == full.parameters.count - 2)
        for (a, b) in after {
            #expect(a.name == b.name)
            #expect(a.gradient.values == b.gradient.values, "\(a.name)")
        }
    }
}
