import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// Exact shortcuts held to the general code they replace, bit for bit: a shortcut may only
/// be faster, never change a report's numbers.
@Suite struct ConvolutionPathTests {
    /// Forward output, input gradient and parameter gradients of one training step.
    func step(_ conv: Conv2D, _ x: Tensor, _ dy: Tensor) -> [[Float]] {
        let y = conv.forward(x, training: true).values
        let dx = conv.backward(dy).values
        return [y, dx, conv.weight.gradient.values, conv.bias?.gradient.values ?? []]
    }

    /// Kernels one column wide copy whole input rows into im2col (musicnn's 7 x 1 mid end over
    /// `[C, T, 1]`, 1 x 1 convolutions); the general element-by-element path gives the same bits.
    /// The last shape is wide enough that im2col works in tiles of two output rows, so tile
    /// edges meet the padding.
    @Test(arguments: [
        ([3, 5, 20, 1], (7, 1), (3, 0)), ([2, 4, 9, 6], (1, 1), (0, 0)), ([2, 3, 6, 5], (3, 1), (2, 0)),
        ([1, 600, 6, 1000], (3, 1), (1, 0)),
    ])
    func wholeRowCopiesMatchTheGeneralPath(shape: [Int], kernel: (Int, Int), padding: (Int, Int)) {
        var g = SeededGenerator(seed: 3)
        let count = shape.reduce(1, *)
        let x = Tensor(shape: shape, values: (0..<count).map { _ in g.nextNormal() })
        var results = [[[Float]]]()
        for allowed in [true, false] {
            var weights = SeededGenerator(seed: 4)
            let conv = Conv2D(shape[1], 2, kernel: kernel, padding: padding, bias: true, generator: &weights)
            conv.threads = 2
            conv.allowsWholeRowCopies = allowed
            #expect(conv.copiesWholeRows == allowed)
            let (ho, wo) = conv.outputSize(height: shape[2], width: shape[3])
            if allowed && shape[1] == 600 { #expect(conv.tileRows(rows: 600 * 3, outHeight: ho, outWidth: wo) == 2) }
            var d = SeededGenerator(seed: 5)
            let dy = Tensor(
                shape: [shape[0], 2, ho, wo], values: (0..<(shape[0] * 2 * ho * wo)).map { _ in d.nextNormal() })
            results.append(step(conv, x, dy))
        }
        for (fast, general) in zip(results[0], results[1]) {
            #expect(fast.map(\.bitPattern) == general.map(\.bitPattern))
        }
    }

    /// Float16 storage to Float: every one of the 65,536 bit patterns, on both paths (F16C
    /// where the CPU has it, and the bit-by-bit fallback), against Swift's own conversion.
    @Test func halfConversionMatchesSwiftForEveryValue() {
        let halves = (0...UInt16.max).map { Float16(bitPattern: $0) }
        let expected = halves.map { Float($0) }
        for hardware in Compute.hasF16C ? [true, false] : [false] {
            var converted = [Float](repeating: 0, count: halves.count)
            // An odd start and count exercise the vector loop's tail.
            halves.withUnsafeBufferPointer { h in
                converted.withUnsafeMutableBufferPointer { c in
                    Compute.convert(h.baseAddress!, to: c.baseAddress!, count: 3, hardware: hardware)
                    Compute.convert(h.baseAddress! + 3, to: c.baseAddress! + 3, count: h.count - 3, hardware: hardware)
                }
            }
            let wrong = zip(converted, expected).filter { a, b in a.isNaN ? !b.isNaN : a.bitPattern != b.bitPattern }
            #expect(wrong.isEmpty, "hardware \(hardware): \(wrong.count) values differ, e.g. \(wrong.prefix(3))")
        }
    }
}
