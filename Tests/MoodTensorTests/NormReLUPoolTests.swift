import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// The fused batch norm + ReLU + max pool against the three layers run apart: identical bits
/// (not a tolerance) in every output, gradient and running statistic.
@Suite struct NormReLUPoolTests {
    /// conv -> batch norm -> ReLU -> max pool, the block MoodCNN repeats.
    static func block(
        pool: (Int, Int), stride: (Int, Int)?, fused: Bool, threads: Int, summation: Summation = .sequential
    ) -> Sequential {
        var g = SeededGenerator(seed: 7)
        let net = Sequential([
            Conv2D(2, 5, generator: &g), BatchNorm2D(5), ReLU(), MaxPool2D(pool.0, pool.1, stride: stride),
        ])
        net.fusesNormReLUPool = fused
        net.setThreads(threads)
        // Batch norm's affine parameters away from 1 and 0, one of them negative.
        let norm = net.layers[1] as! BatchNorm2D
        norm.summation = summation
        for c in 0..<5 {
            norm.gamma.value[c] = 0.5 + Float(c) * 0.3 - (c == 2 ? 1.5 : 0); norm.beta.value[c] = 0.1 * Float(c) - 0.2
        }
        return net
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.values.map(\.bitPattern) }

    /// Forward, backward, then the same in evaluation mode; everything each step leaves behind.
    static func run(_ net: Sequential, input: Tensor, seed: UInt64) -> [[UInt32]] {
        var g = SeededGenerator(seed: seed)
        var record = [[UInt32]]()
        for training in [true, false] {
            let y = net.forward(input, training: training)
            record.append(bits(y))
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { _ in 2 * g.nextUniform() - 1 })
            for p in net.parameters { p.gradient.fill(0) }
            record.append(bits(net.backward(dy)))
            record += net.parameters.map { bits($0.gradient) }
            record += net.buffers.map { bits($0.tensor) }
        }
        return record
    }

    @Test(
        arguments: [
            // MoodCNN's pooling; a height and width the windows do not divide (edge rows dropped);
            // VGG's overlapping 4 x 1 windows with stride 2 x 2; one thread and two.
            // The oneDNN backends' lane-wise sums.
            ((2, 4), nil as (Int, Int)?, 1, Summation.sequential), ((2, 4), nil, 2, .sequential),
            ((3, 5), nil, 2, .sequential), ((4, 1), (2, 2), 2, .sequential), ((2, 4), nil, 2, .lanes),
            // The vectorised 4-wide pool with taller windows and other vertical strides (mask bits up to 31).
            ((3, 4), (2, 4), 1, .sequential), ((8, 4), (3, 4), 2, .lanes),
        ] as [((Int, Int), (Int, Int)?, Int, Summation)])
    func fusedGivesTheSeparateLayersBits(pool: (Int, Int), stride: (Int, Int)?, threads: Int, summation: Summation) {
        var g = SeededGenerator(seed: 11)
        let input = Tensor(shape: [3, 2, 11, 26], values: (0..<(3 * 2 * 11 * 26)).map { _ in g.nextNormal() })
        let fused = Self.block(pool: pool, stride: stride, fused: true, threads: threads, summation: summation)
        let apart = Self.block(pool: pool, stride: stride, fused: false, threads: threads, summation: summation)
        let a = Self.run(fused, input: input, seed: 3), b = Self.run(apart, input: input, seed: 3)
        #expect(fused.steps.map(\.count) == [1, 3], "the fused path was not taken")
        #expect(apart.steps.map(\.count) == [1, 1, 1, 1])
        #expect(a.count == b.count)
        for (k, (x, y)) in zip(a, b).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
    }

    /// A NaN reaching the block stays NaN in the fused output, as in the separate layers.
    @Test func aNaNSurvivesTheFusedBlock() {
        let net = Sequential([BatchNorm2D(1), ReLU(), MaxPool2D(2, 2)])
        var values = [Float](repeating: 1, count: 16)
        values[5] = .nan
        let y = net.forward(Tensor(shape: [1, 1, 4, 4], values: values), training: false)
        #expect(net.steps.map(\.count) == [3])
        #expect(y[0].isNaN && !y[1].isNaN)
    }
}

extension NormReLUPoolTests {
    /// Evaluation takes each window's raw extreme (the largest input, or the smallest where batch
    /// norm's scale is negative) instead of scanning: with infinities, NaN and exact ties among
    /// the inputs it still gives the separate layers' bits, in both signs of the scale.
    @Test func evaluationGivesTheSeparateLayersBitsWithInfinitiesAndTies() {
        var g = SeededGenerator(seed: 12)
        let shape = [2, 5, 6, 37], count = shape.reduce(1, *)
        var values = (0..<count).map { _ in (g.nextNormal() * 2).rounded() / 2 }  // many exact ties
        // 473 and 510 share a window (+infinity in its first row, NaN in its second): the NaN's bits are the scan's.
        for (i, v) in [
            (3, Float.infinity), (100, -.infinity), (473, .infinity), (510, .nan), (1200, .infinity),
            (1733, -.infinity),
        ] {
            values[i] = v
        }
        let input = Tensor(shape: shape, values: values)
        let clean = Tensor(shape: shape, values: (0..<count).map { _ in 0.5 + g.nextNormal() })
        func block(fused: Bool) -> Sequential {
            let norm = BatchNorm2D(5)
            for c in 0..<5 { norm.gamma.value[c] = c % 2 == 0 ? 0.8 : -0.6; norm.beta.value[c] = 0.1 * Float(c) - 0.2 }
            let net = Sequential([norm, ReLU(), MaxPool2D(2, 4)])
            net.fusesNormReLUPool = fused
            net.setThreads(2)
            _ = net.forward(clean, training: true)  // running statistics away from their start
            return net
        }
        let fused = block(fused: true), apart = block(fused: false)
        let a = Self.bits(fused.forward(input, training: false)), b = Self.bits(apart.forward(input, training: false))
        #expect(fused.steps.map(\.count) == [3])
        #expect(
            a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }, "\(zip(a, b).filter { $0 != $1 }.count) differ")
    }

    /// The whole MoodCNN (four fused blocks) gives the unfused network's bits over two steps.
    @Test func moodCNNTrainsToTheSameBits() {
        func train(fused: Bool) -> [[UInt32]] {
            let model = MoodCNN(classes: 4, seed: 5)
            model.network.fusesNormReLUPool = fused
            model.network.setThreads(2)
            var g = SeededGenerator(seed: 9)
            let x = Tensor(shape: [2, 1, 24, 330], values: (0..<(2 * 24 * 330)).map { _ in g.nextNormal() })
            var record = [[UInt32]]()
            for _ in 0..<2 {
                for p in model.parameters { p.gradient.fill(0) }
                let y = model.network.forward(x, training: true)
                record.append(Self.bits(y))
                _ = model.network.backward(Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 3) - 1 }))
                for p in model.parameters {
                    for i in 0..<p.value.count { p.value[i] -= 0.1 * p.gradient[i] }  // a plain SGD step
                    record.append(Self.bits(p.gradient))
                }
            }
            record += model.network.buffers.map { Self.bits($0.tensor) }
            #expect(model.network.steps.filter { $0.count == 3 }.count == (fused ? 4 : 0))
            return record
        }
        let fused = train(fused: true), apart = train(fused: false)
        #expect(fused.count == apart.count)
        for (k, (x, y)) in zip(fused, apart).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
    }
}

extension NormReLUPoolTests {
    /// MoodCNN in evaluation runs its first block as one pass (FirstBlock.swift): the same bits
    /// as the layers apart, with fewer samples than workers (channels split) and more; and a
    /// backward pass after it (the block run again apart) gives the unfused network's gradients.
    @Test(arguments: [(1, 2), (3, 2), (2, 1)])
    func firstBlockInEvaluationGivesTheSeparateLayersBits(samples: Int, threads: Int) {
        guard Compute.ownKernel else { return }  // the fused pass reproduces the AVX2/FMA kernel's bits
        func evaluate(fused: Bool) -> (Sequential, [[UInt32]]) {
            let model = MoodCNN(classes: 4, seed: 5)
            model.network.fusesNormReLUPool = fused
            model.network.setThreads(threads)
            // Negative scales on some channels: their windows' smallest input gives the maximum.
            let norm = model.network.layers.compactMap { $0 as? BatchNorm2D }[0]
            for c in stride(from: 1, to: norm.channels, by: 3) { norm.gamma.value[c] = -0.7 }
            var g = SeededGenerator(seed: 9)
            let x = Tensor(
                shape: [samples, 1, 24, 330], values: (0..<(samples * 24 * 330)).map { _ in g.nextNormal() })
            _ = model.network.forward(x, training: true)  // running statistics away from their start
            let y = model.network.forward(x, training: false)
            for p in model.parameters { p.gradient.fill(0) }
            let dx = model.network.backward(Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 3) - 1 }))
            return (model.network, [Self.bits(y), Self.bits(dx)] + model.parameters.map { Self.bits($0.gradient) })
        }
        let (fusedNet, fused) = evaluate(fused: true), (_, apart) = evaluate(fused: false)
        #expect(fusedNet.steps.first?.count == 4, "the first block was not fused")
        for (k, (x, y)) in zip(fused, apart).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
    }
}

extension NormReLUPoolTests {
    /// A NaN or an infinity reaching the fused first block: its rows take the scan's path, and
    /// the output equals the separate layers' (NaN where theirs is NaN, the same bits elsewhere).
    @Test func firstBlockKeepsNaNAndInfinity() {
        guard Compute.ownKernel else { return }
        var g = SeededGenerator(seed: 3)
        let shape = [2, 1, 10, 64], count = shape.reduce(1, *)
        let clean = Tensor(shape: shape, values: (0..<count).map { _ in g.nextNormal() })
        var values = clean.values
        values[70] = .nan
        values[700] = .infinity
        values[1000] = -.infinity
        func evaluate(fused: Bool) -> [Float] {
            let model = MoodCNN(classes: 4, seed: 2)
            model.network.fusesNormReLUPool = fused
            let first = Sequential(Array(model.network.layers[0..<4]))
            first.fusesNormReLUPool = fused
            let norm = first.layers[1] as! BatchNorm2D
            for c in stride(from: 0, to: norm.channels, by: 2) { norm.gamma.value[c] = -1.1 }
            _ = first.forward(clean, training: true)
            let y = first.forward(Tensor(shape: shape, values: values), training: false).values
            #expect(first.steps.map(\.count) == (fused ? [4] : [1, 1, 1, 1]))
            return y
        }
        let fused = evaluate(fused: true), apart = evaluate(fused: false)
        #expect(fused.contains { $0.isNaN } && fused.count == apart.count)
        let differing = zip(fused, apart).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(fused.count) values differ")
    }
}

extension NormReLUPoolTests {
    /// Training on inputs full of exact ties (values on a grid of halves): the vectorised 2 x 4
    /// pool finds the same first maximum as the scan, so outputs and gradients keep their bits.
    @Test func trainingWithTiesGivesTheSeparateLayersBits() {
        var g = SeededGenerator(seed: 21)
        let shape = [3, 4, 6, 70], count = shape.reduce(1, *)
        let input = Tensor(shape: shape, values: (0..<count).map { _ in (g.nextNormal() * 2).rounded() / 2 })
        func run(fused: Bool) -> [[UInt32]] {
            let norm = BatchNorm2D(4)
            for c in 0..<4 { norm.gamma.value[c] = c == 1 ? -0.9 : 0.6 + 0.2 * Float(c); norm.beta.value[c] = 0.1 }
            let net = Sequential([norm, ReLU(), MaxPool2D(2, 4)])
            net.fusesNormReLUPool = fused
            net.setThreads(2)
            let y = net.forward(input, training: true)
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 5) - 2 })
            let dx = net.backward(dy)
            return [Self.bits(y), Self.bits(dx)] + net.parameters.map { Self.bits($0.gradient) }
        }
        let fused = run(fused: true), apart = run(fused: false)
        for (k, (x, y)) in zip(fused, apart).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
    }
}

extension NormReLUPoolTests {
    /// A NaN in training makes the batch's statistics NaN: every row takes the vectorised
    /// pool's scan, whose outputs, positions (through the gradients) and NaN bits are the scan's.
    @Test func trainingWithANaNGivesTheSeparateLayersBits() {
        var g = SeededGenerator(seed: 8)
        let shape = [2, 3, 4, 24], count = shape.reduce(1, *)
        var values = (0..<count).map { _ in g.nextNormal() }
        values[30] = .nan
        let input = Tensor(shape: shape, values: values)
        func run(fused: Bool) -> [[UInt32]] {
            let net = Sequential([BatchNorm2D(3), ReLU(), MaxPool2D(2, 4)])
            net.fusesNormReLUPool = fused
            let y = net.forward(input, training: true)
            let dx = net.backward(Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 3) - 1 }))
            return [Self.bits(y), Self.bits(dx)]
        }
        let fused = run(fused: true), apart = run(fused: false)
        #expect(fused[0].contains { Float(bitPattern: $0).isNaN })
        for (k, (x, y)) in zip(fused, apart).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
    }
}

extension NormReLUPoolTests {
    /// Both orders in evaluation (MoodCNN's batch norm then ReLU, musicnn's ReLU then batch
    /// norm) with the windows that take the vector paths: musicnn's pools across the whole
    /// frequency axis (37 wide here: two 16-lane blocks, the second overlapping), a 16-wide
    /// window, VGG's 4 x 1 windows at stride 2 x 2. Inputs hold exact ties, signed zeros,
    /// infinities and a NaN; one channel's shift is exactly 0 (zeros' signs reach the output).
    /// Output, input gradient and parameter gradients of a backward pass after it: the bits of
    /// the three layers apart.
    @Test(
        arguments: [
            (true, (1, 37), nil as (Int, Int)?), (true, (1, 16), (1, 7)), (true, (4, 1), (2, 2)), (true, (2, 2), nil),
            (false, (1, 37), nil), (false, (1, 20), (1, 17)),
        ] as [(Bool, (Int, Int), (Int, Int)?)])
    func wideAndOverlappingWindowsGiveTheSeparateLayersBits(rectifyFirst: Bool, pool: (Int, Int), stride: (Int, Int)?) {
        var g = SeededGenerator(seed: 13)
        let shape = [2, 5, 6, 37], count = shape.reduce(1, *)
        var values = (0..<count).map { _ in (g.nextNormal() * 2).rounded() / 2 }  // many exact ties, +-0 among them
        for i in Swift.stride(from: 7, to: count, by: 53) { values[i] = -0.0 }
        for (i, v) in [(3, Float.infinity), (100, -.infinity), (511, .nan), (1733, -.infinity)] { values[i] = v }
        let input = Tensor(shape: shape, values: values)
        let clean = Tensor(shape: shape, values: (0..<count).map { _ in 0.5 + g.nextNormal() })
        func block(fused: Bool) -> Sequential {
            let norm = BatchNorm2D(5)
            for c in 0..<5 {
                norm.gamma.value[c] = c % 2 == 0 ? 0.8 : -0.6; norm.beta.value[c] = c == 2 ? 0 : 0.1 * Float(c) - 0.2
            }
            let pooling = MaxPool2D(pool.0, pool.1, stride: stride)
            let net = Sequential(rectifyFirst ? [ReLU(), norm, pooling] : [norm, ReLU(), pooling])
            net.fusesNormReLUPool = fused
            net.setThreads(2)
            _ = net.forward(clean, training: true)  // running statistics away from their start
            return net
        }
        func evaluate(_ net: Sequential) -> [[UInt32]] {
            let y = net.forward(input, training: false)
            var h = SeededGenerator(seed: 5)
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { _ in 2 * h.nextUniform() - 1 })
            for p in net.parameters { p.gradient.fill(0) }
            return [Self.bits(y), Self.bits(net.backward(dy))] + net.parameters.map { Self.bits($0.gradient) }
        }
        let fused = block(fused: true), apart = block(fused: false)
        let a = evaluate(fused), b = evaluate(apart)
        #expect(fused.steps.map(\.count) == [3], "the fused path was not taken")
        #expect(apart.steps.map(\.count) == [1, 1, 1])
        for (k, (x, y)) in zip(a, b).enumerated() {
            let differing = zip(x, y).filter { $0 != $1 }.count
            #expect(x.count == y.count && differing == 0, "record \(k): \(differing) of \(x.count) values differ")
        }
        #expect(a[0].contains { Float(bitPattern: $0).isNaN }, "the NaN should reach the output")
    }
}
