import MoodCore
import MoodTensor

/// musicnn's mid end: three 1-D convolutions over time (kernel 7, zero-padded 3 + 3), each
/// ReLU then batch norm, the second and third with residual connections, and a dense
/// connection that stacks the front end and all three outputs:
///
///     b1 = bn1(relu(conv1(f)))          f: [N, 561, T, 1] (front-end features as channels)
///     r2 = bn2(relu(conv2(b1))) + b1
///     r3 = bn3(relu(conv3(r2))) + r2
///     y  = [f, b1, r2, r3]              [N, 561 + 3 x 64, T, 1]
///
/// Backward runs the chain in reverse: `dr2 = dy_r2 + dr3 + conv3'(dr3)`,
/// `db1 = dy_b1 + dr2 + conv2'(dr2)`, `df = dy_f + conv1'(db1)` (primes: the blocks' backward).
public final class MusicnnMidEnd: Layer {
    public let blocks: [Sequential]
    public let inChannels: Int, filters: Int
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let residual2 = Tensor(shape: [0]), residual3 = Tensor(shape: [0])
    private let gradB1 = Tensor(shape: [0]), gradR2 = Tensor(shape: [0]), gradR3 = Tensor(shape: [0])
    private var bn1: Tensor?

    public init(inChannels: Int, filters: Int, generator: inout SeededGenerator) {
        self.inChannels = inChannels
        self.filters = filters
        blocks = [inChannels, filters, filters].map { input in
            Sequential([
                Conv2D(input, filters, kernel: (7, 1), padding: (3, 0), bias: true, generator: &generator), ReLU(),
                BatchNorm2D(filters, epsilon: 1e-3, momentum: 0.01),
            ])
        }
        name("")
    }

    public var outChannels: Int { inChannels + 3 * filters }
    public var parameters: [Parameter] { blocks.flatMap(\.parameters) }
    public var buffers: [(name: String, tensor: Tensor)] { blocks.flatMap(\.buffers) }
    public var sublayers: [Layer] { blocks }
    public func name(_ prefix: String) {
        for (i, block) in blocks.enumerated() { block.name("\(prefix)conv\(i + 1).") }
    }

    public func forward(_ f: Tensor, training: Bool) -> Tensor {
        precondition(
            f.shape.count == 4 && f.shape[1] == inChannels && f.shape[3] == 1,
            "MusicnnMidEnd expects [N, \(inChannels), T, 1], got \(f.shape)")
        let b1 = blocks[0].forward(f, training: training)
        bn1 = b1
        let c2 = blocks[1].forward(b1, training: training)
        residual2.resize(b1.shape)
        for i in 0..<b1.count { residual2.data[i] = c2.data[i] + b1.data[i] }
        let c3 = blocks[2].forward(residual2, training: training)
        residual3.resize(b1.shape)
        for i in 0..<b1.count { residual3.data[i] = c3.data[i] + residual2.data[i] }

        let (n, t) = (f.shape[0], f.shape[2])
        output.resize([n, outChannels, t, 1])
        for s in 0..<n {
            var at = output.data + s * outChannels * t
            at.update(from: f.data + s * inChannels * t, count: inChannels * t); at += inChannels * t
            for part in [b1, residual2, residual3] {
                at.update(from: part.data + s * filters * t, count: filters * t); at += filters * t
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, t) = (dy.shape[0], dy.shape[2])
        let partShape = [n, filters, t, 1]
        // Slices of dy for r3, r2, b1.
        func slice(_ index: Int, into g: Tensor) {
            g.resize(partShape)
            for s in 0..<n {
                (g.data + s * filters * t).update(
                    from: dy.data + (s * outChannels + inChannels + index * filters) * t, count: filters * t)
            }
        }
        slice(2, into: gradR3)
        slice(1, into: gradR2)
        let d3 = blocks[2].backward(gradR3)
        for i in 0..<gradR2.count { gradR2.data[i] += gradR3.data[i] + d3.data[i] }
        slice(0, into: gradB1)
        let d2 = blocks[1].backward(gradR2)
        for i in 0..<gradB1.count { gradB1.data[i] += gradR2.data[i] + d2.data[i] }
        let d1 = blocks[0].backward(gradB1)
        inputGradient.resize([n, inChannels, t, 1])
        for s in 0..<n {
            let g = inputGradient.data + s * inChannels * t, d = dy.data + s * outChannels * t,
                b = d1.data + s * inChannels * t
            for i in 0..<(inChannels * t) { g[i] = d[i] + b[i] }
        }
        return inputGradient
    }
}
