import MoodCore

/// Fully connected: `y = x W^T + b`, `x [N, in]`, `W [out, in]`, `b [out]`, `y [N, out]`.
/// Backward: `dW += dy^T x`, `db += sum_n dy`, `dx = dy W`.
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var input: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, generator: inout SeededGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: "weight", shape: [outFeatures, inFeatures])
        bias = Parameter(name: "bias", shape: [outFeatures], decays: false)
        // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weights and biases.
        let bound = 1 / Float(inFeatures).squareRoot()
        for i in 0..<weight.value.count { weight.value[i] = (2 * generator.nextUniform() - 1) * bound }
        for i in 0..<outFeatures { bias.value[i] = (2 * generator.nextUniform() - 1) * bound }
    }

    /// Keras's default instead: Glorot-uniform weights, `U(-sqrt(6 / (in + out)), +)`, zero biases.
    public func glorotUniform(generator: inout SeededGenerator) {
        let limit = (6 / Float(inFeatures + outFeatures)).squareRoot()
        for i in 0..<weight.value.count { weight.value[i] = (2 * generator.nextUniform() - 1) * limit }
        bias.value.zero()
    }

    public var parameters: [Parameter] { [weight, bias] }
    public func name(_ prefix: String) { weight.name = prefix + "weight"; bias.name = prefix + "bias" }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(
            x.shape.count == 2 && x.shape[1] == inFeatures, "Linear expects [N, \(inFeatures)], got \(x.shape)")
        input = x
        let n = x.shape[0]
        output.resize([n, outFeatures])
        let y = output.data, b = bias.value.data
        for s in 0..<n { (y + s * outFeatures).update(from: b, count: outFeatures) }
        Compute.sgemm(
            transposeB: true, m: n, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
            b: weight.value.data, ldb: inFeatures, beta: 1, c: output.data, ldc: outFeatures)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let n = x.shape[0]
        Compute.sgemm(
            transposeA: true, m: outFeatures, n: inFeatures, k: n, a: dy.data, lda: outFeatures,
            b: x.data, ldb: inFeatures, beta: 1, c: weight.gradient.data, ldc: inFeatures)
        let db = bias.gradient.data, g = dy.data
        for s in 0..<n { for o in 0..<outFeatures { db[o] += g[s * outFeatures + o] } }
        inputGradient.resize(x.shape)
        Compute.sgemm(
            m: n, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures, b: weight.value.data,
            ldb: inFeatures, c: inputGradient.data, ldc: inFeatures)
        return inputGradient
    }
}
