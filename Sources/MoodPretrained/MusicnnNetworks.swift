import MoodCore
import MoodTensor

/// The two architectures of musicnn 0.1.0 (Pons & Serra 2019), built from MoodDex's layers
/// with TensorFlow's conventions: input `[N, 1, 187, 96]` (time as height, frequency as
/// width), batch norm with epsilon 0.001 and moving averages at momentum 0.99 (0.01 here),
/// ReLU *before* batch norm, `same` padding with the extra row after.
///
/// Each network is cut where fastai would cut a pretrained body (the penultimate layer, ``MusicnnNetwork/embeddingEnd``),
/// and its layers fall into the groups that discriminative learning rates address
/// (``MusicnnNetwork/groups``): front end, mid end, back end, and the task's head.
public final class MusicnnNetwork {
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Musically motivated front end (timbral 7x38 and 7x67, temporal 128x1, 64x1, 32x1
        /// filters), dense 1-D mid end, max + mean temporal pooling, dense 200 back end.
        case musicnn
        /// Five 3x3 convolution blocks of 128 filters.
        case vgg
    }

    public let architecture: Architecture
    /// The whole network: body, back end and the output layer.
    public let network: Sequential
    /// Layers `0 ..< embeddingEnd` give the penultimate features (musicnn: the 200-d
    /// `penultimate` batch norm; VGG: flattened pool5, 256-d).
    public let embeddingEnd: Int
    /// Layer ranges of the groups, in order: front end, mid end, back end, head.
    public let groups: [Range<Int>]
    /// Outputs of the last layer (50 tags for the released models).
    public let outputs: Int

    public var embeddingSize: Int { architecture == .musicnn ? 200 : 256 }

    /// A network with freshly initialised weights (load a checkpoint to make it useful).
    public init(_ architecture: Architecture, outputs: Int = 50, seed: UInt64) {
        self.architecture = architecture
        self.outputs = outputs
        var g = SeededGenerator(seed: seed)
        func bn(_ c: Int) -> BatchNorm2D { BatchNorm2D(c, epsilon: 1e-3, momentum: 0.01) }
        switch architecture {
        case .musicnn:
            func timbral(_ width: Int) -> Sequential {
                // 3 rows of zeros on each side of time, none on frequency: 'valid' over frequency.
                Sequential([
                    Conv2D(1, 204, kernel: (7, width), padding: (3, 0), bias: true, generator: &g), ReLU(), bn(204),
                    MaxPool2D(1, MusicnnInput.melBands - width + 1),
                ])
            }
            func temporal(_ length: Int) -> Sequential {
                Sequential([
                    ZeroPad2D.same(kernelHeight: length),
                    Conv2D(1, 51, kernel: (length, 1), padding: (0, 0), bias: true, generator: &g),
                    ReLU(), bn(51), MaxPool2D(1, MusicnnInput.melBands),
                ])
            }
            let front: [Layer] = [
                bn(1), Concatenate([timbral(38), timbral(67), temporal(128), temporal(64), temporal(32)]),
            ]
            let mid: [Layer] = [MusicnnMidEnd(inChannels: 561, filters: 64, generator: &g), GlobalMaxMeanPool()]
            let back: [Layer] = [
                bn(1506), Dropout(0.5, generator: &g), Linear(1506, 200, generator: &g), ReLU(), bn(200),
            ]
            let head: [Layer] = [Dropout(0.5, generator: &g), Linear(200, outputs, generator: &g)]
            network = Sequential(front + mid + back + head)
            groups = Self.ranges([front.count, mid.count, back.count, head.count])
            embeddingEnd = front.count + mid.count + back.count
        case .vgg:
            var body: [Layer] = [bn(1)]
            var input = 1
            for (i, pool) in [(4, 1, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (4, 4, 4, 4)].enumerated() {
                body += [
                    Conv2D(input, 128, kernel: (3, 3), padding: (1, 1), bias: true, generator: &g), ReLU(), bn(128),
                    MaxPool2D(pool.0, pool.1, stride: (pool.2, pool.3)),
                ]
                if i < 4 { body.append(Dropout(0.25, generator: &g)) }
                input = 128
            }
            body.append(Flatten())
            // Groups: blocks 1-2 up to pool 2 (front), then pool 2's dropout and blocks 3-5 (mid),
            // nothing between pool5 and the output. The dropout goes with what trains: a frozen
            // front end is computed once in inference mode (``FrontEndMaps``), where it would vanish.
            let front = 1 + 5 + 4, mid = body.count - front
            let head: [Layer] = [Dropout(0.5, generator: &g), Linear(256, outputs, generator: &g)]
            network = Sequential(body + head)
            groups = Self.ranges([front, mid, 0, head.count])
            embeddingEnd = body.count
        }
    }

    static func ranges(_ counts: [Int]) -> [Range<Int>] {
        var start = 0
        return counts.map { c in
            defer { start += c }; return start..<start + c
        }
    }

    /// The penultimate features of a batch of patches `[N, 1, 187, 96]` (inference mode).
    public func embed(_ x: Tensor) -> Tensor {
        var y = x
        for layer in network.layers[0..<embeddingEnd] { y = layer.forward(y, training: false) }
        return y
    }

    /// Parameters of group `g` (0 front, 1 mid, 2 back, 3 head).
    public func parameters(group g: Int) -> [Parameter] { network.layers[groups[g]].flatMap(\.parameters) }

    /// Multiply-adds x 2 of one patch's forward pass (convolutions and dense layers).
    public var forwardFLOPs: Double {
        var flops = 0.0
        let x = Tensor(shape: [1, 1, MusicnnInput.patchFrames, MusicnnInput.melBands])
        func visit(_ layer: Layer, _ input: [Int]) {
            if let conv = layer as? Conv2D {
                let (ho, wo) = conv.outputSize(height: input[2], width: input[3])
                flops += 2 * Double(conv.outChannels * conv.inChannels * conv.kernel.h * conv.kernel.w * ho * wo)
            } else if let linear = layer as? Linear {
                flops += 2 * Double(linear.inFeatures * linear.outFeatures)
            }
        }
        // Walks the layers with a zero patch, so every convolution sees its real input size.
        func walk(_ layer: Layer, input: [Int]) -> [Int] {
            if let seq = layer as? Sequential {
                var shape = input
                for l in seq.layers { shape = walk(l, input: shape) }
                return shape
            }
            if let cat = layer as? Concatenate {
                var channels = 0, rest = [Int]()
                for b in cat.branches { let s = walk(b, input: input); channels += s[1]; rest = Array(s[2...]) }
                return [input[0], channels] + rest
            }
            if let mid = layer as? MusicnnMidEnd {
                for (i, block) in mid.blocks.enumerated() {
                    _ = walk(block, input: [input[0], i == 0 ? mid.inChannels : mid.filters, input[2], 1])
                }
                return [input[0], mid.outChannels, input[2], 1]
            }
            visit(layer, input)
            let probe = Tensor(shape: input)
            return layer.forward(probe, training: false).shape
        }
        _ = walk(network, input: x.shape)
        return flops
    }
}
