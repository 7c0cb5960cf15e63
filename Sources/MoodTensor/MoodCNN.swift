import MoodCore

/// The reference model, for log-mel input `[N, 1, 96, 1292]`:
/// four blocks of conv 3 x 3 + batch norm + ReLU + max pool (2 x 4, 2 x 4, 2 x 4, 3 x 5) with
/// 32, 64, 128, 128 channels, global average pooling, dropout 0.3, and a linear head.
/// About 1.0 GFLOP forward per clip. Names match a PyTorch `nn.Sequential` of the same layers.
public final class MoodCNN {
    public let network: Sequential
    /// Layers 0 ..< bodyCount form the body (what fastai's `freeze` freezes); the rest, the head.
    public let bodyCount = 16
    public let classes: Int

    public init(classes: Int, channels: [Int] = [32, 64, 128, 128], dropout: Float = 0.3, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        let pools = [(2, 4), (2, 4), (2, 4), (3, 5)]
        var input = 1
        for (width, pool) in zip(channels, pools) {
            let conv = Conv2D(input, width, generator: &generator)
            if input == 1 { conv.computesInputGradient = false }
            layers += [conv, BatchNorm2D(width), ReLU(), MaxPool2D(pool.0, pool.1)]
            input = width
        }
        layers += [
            GlobalAveragePool(), Dropout(dropout, generator: &generator), Linear(input, classes, generator: &generator),
        ]
        network = Sequential(layers)
        self.classes = classes
    }

    public var parameters: [Parameter] { network.parameters }
    public var bodyParameters: [Parameter] { network.layers[0..<bodyCount].flatMap(\.parameters) }
    public var headParameters: [Parameter] { network.layers[bodyCount...].flatMap(\.parameters) }

    /// Freezes the body's weights but, as fastai does, not its batch-norm parameters.
    public func freezeBody() {
        for layer in network.layers[0..<bodyCount] where !(layer is BatchNorm2D) {
            for p in layer.parameters { p.frozen = true }
        }
    }

    public func unfreeze() { for p in parameters { p.frozen = false } }

    /// Forward multiply-adds x 2 for one input of `height x width`.
    public func forwardFLOPs(height: Int = 96, width: Int = 1292) -> Double {
        var h = height, w = width, flops = 0.0
        for layer in network.layers {
            if let conv = layer as? Conv2D {
                flops += 2 * Double(conv.outChannels * conv.inChannels * conv.kernel.h * conv.kernel.w * h * w)
            } else if let pool = layer as? MaxPool2D {
                h /= pool.window.h; w /= pool.window.w
            } else if let linear = layer as? Linear {
                flops += 2 * Double(linear.inFeatures * linear.outFeatures)
            }
        }
        return flops
    }
}
