import Foundation
import MoodCore
@testable import MoodTensor
import Testing

// Double-precision references: the plain definitions each fast layer is held to.

func referenceBatchNorm(_ x: [Double], shape: [Int], gamma: [Double], beta: [Double], epsilon: Double = 1e-5)
    -> [Double]
{
    let (n, c) = (shape[0], shape[1]), plane = x.count / (n * c)
    var y = x
    for ch in 0..<c {
        var values = [Double]()
        for s in 0..<n { values += x[((s * c + ch) * plane)..<((s * c + ch + 1) * plane)] }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        for s in 0..<n {
            for i in 0..<plane {
                let k = (s * c + ch) * plane + i
                y[k] = gamma[ch] * (x[k] - mean) / (variance + epsilon).squareRoot() + beta[ch]
            }
        }
    }
    return y
}

func referenceMaxPool(_ x: [Double], shape: [Int], window: (Int, Int), stride: (Int, Int)? = nil) -> [Double] {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let (sh, sw) = stride ?? window
    let ho = (h - window.0) / sh + 1, wo = (w - window.1) / sw + 1
    var y = [Double]()
    for p in 0..<(n * c) {
        for oh in 0..<ho {
            for ow in 0..<wo {
                var best = -Double.infinity
                for i in 0..<window.0 {
                    for j in 0..<window.1 { best = max(best, x[p * h * w + (oh * sh + i) * w + ow * sw + j]) }
                }
                y.append(best)
            }
        }
    }
    return y
}

/// Zero padding in Double: `[N, C, H, W]` to `[N, C, top + H + bottom, left + W + right]`.
func referencePad(_ x: [Double], shape: [Int], top: Int, bottom: Int, left: Int, right: Int) -> [Double] {
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
    let ho = top + h + bottom, wo = left + w + right
    var y = [Double](repeating: 0, count: planes * ho * wo)
    for p in 0..<planes {
        for r in 0..<h { for c in 0..<w { y[p * ho * wo + (top + r) * wo + left + c] = x[p * h * w + r * w + c] } }
    }
    return y
}

func referenceLinear(_ x: [Double], n: Int, weight: [Double], bias: [Double], inFeatures: Int, outFeatures: Int)
    -> [Double]
{
    (0..<n).flatMap { s in
        (0..<outFeatures).map { o in
            bias[o] + (0..<inFeatures).reduce(0.0) { $0 + weight[o * inFeatures + $1] * x[s * inFeatures + $1] }
        }
    }
}

/// Values for gradient checks: normal, but kept 0.02 away from 0 (ReLU's kink) and, for
/// pooling, all distinct by at least 0.005 (so a small step never changes the maximum).
func checkInput(_ count: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    var order = Array(0..<count)
    order.shuffle(using: &g)
    return order.map { rank in
        let v = (Float(rank) - Float(count) / 2) * 0.005 + (rank >= count / 2 ? 0.02 : -0.02)
        return v * 4 / max(1, Float(count) * 0.005)
    }
}

/// Compares a layer's analytic gradients (Float) with central differences of the Double
/// reference of L = sum(g * y), for the input and every parameter. Step 1e-5; tolerance:
/// largest difference at most `tolerance` x max(1, largest numeric gradient).
func gradientCheck(
    _ layer: Layer, inputShape: [Int], seed: UInt64, tolerance: Double = 2e-3,
    checkInputGradient: Bool = true,
    reference: ([Double], [[Double]]) -> [Double]
) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor(shape: inputShape, values: checkInput(inputShape.reduce(1, *), seed: seed))
    let y = layer.forward(x, training: true)
    let upstream = Tensor(shape: y.shape, values: (0..<y.count).map { _ in g.nextNormal() })
    let params = layer.parameters.map { $0.value.values.map(Double.init) }
    let xD = x.values.map(Double.init)

    let refY = reference(xD, params)
    let forwardError = zip(y.values, refY).map { abs(Double($0) - $1) }.max() ?? 0
    #expect(
        forwardError <= 1e-4 * max(1, refY.map(abs).max() ?? 1), "forward differs from the reference by \(forwardError)"
    )

    for p in layer.parameters { p.gradient.zero() }
    let dx = layer.backward(upstream).values
    let gD = upstream.values.map(Double.init)
    func objective(_ x: [Double], _ params: [[Double]]) -> Double {
        zip(reference(x, params), gD).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let h = 1e-5

    if checkInputGradient {
        var worst = 0.0, largest = 0.0
        for i in 0..<xD.count {
            var plus = xD, minus = xD
            plus[i] += h; minus[i] -= h
            let numeric = (objective(plus, params) - objective(minus, params)) / (2 * h)
            largest = max(largest, abs(numeric))
            worst = max(worst, abs(numeric - Double(dx[i])))
        }
        #expect(
            worst <= tolerance * max(1, largest),
            "input gradient: worst difference \(worst), largest gradient \(largest)")
    }
    for (k, p) in layer.parameters.enumerated() {
        var worst = 0.0, largest = 0.0
        let analytic = p.gradient.values
        for i in 0..<params[k].count {
            var plus = params, minus = params
            plus[k][i] += h; minus[k][i] -= h
            let numeric = (objective(xD, plus) - objective(xD, minus)) / (2 * h)
            largest = max(largest, abs(numeric))
            worst = max(worst, abs(numeric - Double(analytic[i])))
        }
        #expect(
            worst <= tolerance * max(1, largest), "\(p.name) gradient: worst difference \(worst), largest \(largest)")
    }
}

@Suite struct GradientCheckTests {

    @Test(arguments: [
        ((3, 3), (1, 1), (1, 1), false), ((3, 3), (2, 2), (1, 1), true), ((1, 1), (1, 1), (0, 0), false),
        ((2, 3), (1, 2), (0, 1), true), ((7, 1), (1, 1), (3, 0), true),
    ])
    func conv2D(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), bias: Bool) {
        var g = SeededGenerator(seed: 1)
        let conv = Conv2D(2, 3, kernel: kernel, stride: stride, padding: padding, bias: bias, generator: &g)
        if let b = conv.bias { for i in 0..<3 { b.value[i] = Float(i) * 0.1 - 0.1 } }
        gradientCheck(conv, inputShape: [2, 2, 5, 6], seed: 11) { x, p in
            Conv2D.reference(
                x, shape: [2, 2, 5, 6], weight: p[0], weightShape: [3, 2, kernel.0, kernel.1],
                bias: bias ? p[1] : nil, stride: stride, padding: padding
            ).values
        }
    }

    /// The fast path against the direct convolution at a realistic size, with several workers.
    @Test func im2colMatchesDirectConvolution() {
        var g = SeededGenerator(seed: 2)
        let conv = Conv2D(8, 16, generator: &g)
        let x = Tensor(shape: [3, 8, 12, 40], values: (0..<(3 * 8 * 12 * 40)).map { _ in g.nextNormal() })
        let y = conv.forward(x, training: false).values
        let reference = Conv2D.reference(
            x.values.map(Double.init), shape: x.shape, weight: conv.weight.value.values.map(Double.init),
            weightShape: conv.weight.value.shape, bias: nil, stride: (1, 1), padding: (1, 1)
        ).values
        let worst = zip(y, reference).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    @Test func batchNormTraining() {
        let bn = BatchNorm2D(3)
        for c in 0..<3 { bn.gamma.value[c] = 0.5 + Float(c) * 0.4; bn.beta.value[c] = Float(c) * 0.1 - 0.1 }
        gradientCheck(bn, inputShape: [4, 3, 2, 3], seed: 12) { x, p in
            referenceBatchNorm(x, shape: [4, 3, 2, 3], gamma: p[0], beta: p[1])
        }
    }

    @Test func batchNormEvaluationUsesRunningStatistics() {
        let bn = BatchNorm2D(2, momentum: 0.5)
        let x = Tensor(shape: [2, 2, 1, 2], values: [1, 2, 10, 20, 3, 4, 30, 40])
        _ = bn.forward(x, training: true)
        // Channel 0 holds 1, 2, 3, 4: mean 2.5, unbiased variance 5/3. Momentum 0.5 from (0, 1).
        #expect(abs(bn.runningMean[0] - 1.25) < 1e-6)
        #expect(abs(bn.runningVariance[0] - (0.5 + 0.5 * 5.0 / 3)) < 1e-5)
        let y = bn.forward(x, training: false)
        #expect(abs(y[0] - (1 - 1.25) / (bn.runningVariance[0] + 1e-5).squareRoot()) < 1e-5)
        // In training mode the output is normalised with the batch's own statistics instead.
        let t = bn.forward(x, training: true)
        #expect(abs(t[0] - (1 - 2.5) / (1.25 + 1e-5 as Float).squareRoot()) < 1e-5)
    }

    @Test func reluMaxPoolAndAveragePool() {
        gradientCheck(ReLU(), inputShape: [2, 3, 4], seed: 13) { x, _ in x.map { max(0, $0) } }
        gradientCheck(MaxPool2D(2, 3), inputShape: [2, 2, 4, 7], seed: 14) { x, _ in
            referenceMaxPool(x, shape: [2, 2, 4, 7], window: (2, 3))
        }
        gradientCheck(GlobalAveragePool(), inputShape: [2, 3, 2, 5], seed: 15) { x, _ in
            stride(from: 0, to: x.count, by: 10).map { x[$0..<$0 + 10].reduce(0, +) / 10 }
        }
    }

    /// The layers musicnn adds: overlapping strided pooling, uneven padding, branches stacked
    /// by channel, global max + mean pooling.
    @Test func stridedPoolPaddingBranchesAndMaxMeanPool() {
        gradientCheck(MaxPool2D(4, 1, stride: (2, 2)), inputShape: [2, 2, 9, 5], seed: 21) { x, _ in
            referenceMaxPool(x, shape: [2, 2, 9, 5], window: (4, 1), stride: (2, 2))
        }
        gradientCheck(ZeroPad2D.same(kernelHeight: 4, kernelWidth: 3), inputShape: [2, 2, 3, 4], seed: 22) { x, _ in
            referencePad(x, shape: [2, 2, 3, 4], top: 1, bottom: 2, left: 1, right: 1)
        }
        var g = SeededGenerator(seed: 5)
        // Two branches over [2, 1, 6, 4]: a 3x3 convolution (3 channels) and an even 4x1 one under 'same' padding (2).
        let a = Conv2D(1, 3, kernel: (3, 3), padding: (1, 1), bias: true, generator: &g)
        let b = Conv2D(1, 2, kernel: (4, 1), padding: (0, 0), bias: true, generator: &g)
        let branches = Concatenate([a, Sequential([ZeroPad2D.same(kernelHeight: 4), b])])
        gradientCheck(branches, inputShape: [2, 1, 6, 4], seed: 23) { x, p in
            let ya = Conv2D.reference(
                x, shape: [2, 1, 6, 4], weight: p[0], weightShape: [3, 1, 3, 3], bias: p[1],
                stride: (1, 1), padding: (1, 1)
            ).values
            let padded = referencePad(x, shape: [2, 1, 6, 4], top: 1, bottom: 2, left: 0, right: 0)
            let yb = Conv2D.reference(
                padded, shape: [2, 1, 9, 4], weight: p[2], weightShape: [2, 1, 4, 1], bias: p[3],
                stride: (1, 1), padding: (0, 0)
            ).values
            var y = [Double]()
            for n in 0..<2 {
                y += ya[(n * 72)..<((n + 1) * 72)]
                y += yb[(n * 48)..<((n + 1) * 48)]
            }
            return y
        }
        gradientCheck(GlobalMaxMeanPool(), inputShape: [2, 3, 5, 1], seed: 24) { x, _ in
            var y = [Double]()
            for start in stride(from: 0, to: x.count, by: 5) {
                let plane = x[start..<start + 5]
                y += [plane.max()!, plane.reduce(0, +) / 5]
            }
            return y
        }
    }

    @Test func linear() {
        var g = SeededGenerator(seed: 3)
        gradientCheck(Linear(5, 4, generator: &g), inputShape: [3, 5], seed: 16) { x, p in
            referenceLinear(x, n: 3, weight: p[0], bias: p[1], inFeatures: 5, outFeatures: 4)
        }
    }

    @Test func residualBlockWithProjection() {
        var g = SeededGenerator(seed: 4)
        let block = BasicBlock(2, 3, stride: 2, generator: &g)
        block.name("")
        gradientCheck(block, inputShape: [2, 2, 4, 6], seed: 17, tolerance: 3e-3) { x, p in
            let s = [2, 2, 4, 6]
            let c1 = Conv2D.reference(
                x, shape: s, weight: p[0], weightShape: [3, 2, 3, 3], bias: nil, stride: (2, 2), padding: (1, 1))
            let a1 = referenceBatchNorm(c1.values, shape: c1.shape, gamma: p[1], beta: p[2]).map { max(0, $0) }
            let c2 = Conv2D.reference(
                a1, shape: c1.shape, weight: p[3], weightShape: [3, 3, 3, 3], bias: nil, stride: (1, 1), padding: (1, 1)
            )
            let main = referenceBatchNorm(c2.values, shape: c2.shape, gamma: p[4], beta: p[5])
            let cs = Conv2D.reference(
                x, shape: s, weight: p[6], weightShape: [3, 2, 1, 1], bias: nil, stride: (2, 2), padding: (0, 0))
            let short = referenceBatchNorm(cs.values, shape: cs.shape, gamma: p[7], beta: p[8])
            return zip(main, short).map { max(0, $0 + $1) }
        }
        #expect(block.parameters.map(\.name).prefix(3) == ["conv1.weight", "bn1.weight", "bn1.bias"])
    }

    @Test func dropoutScalesKeptValuesAndMasksTheGradient() {
        var g = SeededGenerator(seed: 5)
        let dropout = Dropout(0.3, generator: &g)
        let x = Tensor(shape: [1, 10000], values: [Float](repeating: 1, count: 10000))
        let y = dropout.forward(x, training: true).values
        let dropped = y.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / 10000 - 0.3) < 0.02, "dropped \(dropped) of 10000")
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        let dx = dropout.backward(Tensor(shape: [1, 10000], values: [Float](repeating: 2, count: 10000))).values
        #expect(zip(dx, y).allSatisfy { ($0 == 0) == ($1 == 0) })
        #expect(dropout.forward(x, training: false).values == x.values)
    }

    @Test func softmaxCrossEntropyGradient() {
        let logits: [Float] = [0.2, -1.0, 2.0, 0.5, 0.3, -0.7]
        let targets = [2, 0]
        func reference(_ z: [Double]) -> Double {
            (0..<2).map { s in
                let row = Array(z[(3 * s)..<(3 * s + 3)])
                return log(row.map(exp).reduce(0, +)) - row[targets[s]]
            }.reduce(0, +) / 2
        }
        let gradient = Tensor(shape: [0])
        let loss = SoftmaxCrossEntropy.loss(
            Tensor(shape: [2, 3], values: logits), targets: targets, gradient: gradient)
        let zD = logits.map(Double.init)
        #expect(abs(Double(loss) - reference(zD)) < 1e-6)
        for i in 0..<6 {
            var plus = zD, minus = zD
            plus[i] += 1e-6; minus[i] -= 1e-6
            #expect(abs((reference(plus) - reference(minus)) / 2e-6 - Double(gradient[i])) < 1e-5)
        }
    }

    @Test func sigmoidBinaryCrossEntropyGradientWithPositiveWeights() {
        let logits: [Float] = [0.2, -3.0, 12.0, -0.5, 30.0, -25.0]
        let targets: [Float] = [1, 0, 1, 1, 0, 1]
        let weights: [Float] = [2, 1, 0.5]
        // -log sigma(z) = softplus(-z) and -log(1 - sigma(z)) = softplus(z), in Double, stable for |z| = 30.
        func softplus(_ v: Double) -> Double { log1p(exp(-abs(v))) + max(v, 0) }
        func reference(_ z: [Double]) -> Double {
            (0..<6).map { i in
                let w = Double(weights[i % 3]), y = Double(targets[i])
                return w * y * softplus(-z[i]) + (1 - y) * softplus(z[i])
            }.reduce(0, +) / 6
        }
        let gradient = Tensor(shape: [0])
        let loss = SigmoidBinaryCrossEntropy.loss(
            Tensor(shape: [2, 3], values: logits), targets: targets,
            positiveWeights: weights, gradient: gradient)
        let zD = logits.map(Double.init)
        #expect(abs(Double(loss) - reference(zD)) < 1e-5, "loss \(loss) vs \(reference(zD))")
        for i in 0..<6 {
            var plus = zD, minus = zD
            plus[i] += 1e-6; minus[i] -= 1e-6
            #expect(abs((reference(plus) - reference(minus)) / 2e-6 - Double(gradient[i])) < 1e-5)
        }
    }
}
