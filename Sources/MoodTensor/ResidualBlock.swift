import MoodCore

/// ResNet's basic block: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, with 3 x 3
/// convolutions; the shortcut is the identity, or a 1 x 1 convolution and batch norm
/// when the stride or channel count changes. Backward adds the two branches' input gradients.
public final class BasicBlock: Layer {
    public let main: Sequential
    public let shortcut: Sequential?
    private let finalReLU = ReLU()
    private let sum = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, generator: inout SeededGenerator) {
        main = Sequential([
            Conv2D(inChannels, outChannels, stride: (stride, stride), generator: &generator), BatchNorm2D(outChannels),
            ReLU(),
            Conv2D(outChannels, outChannels, generator: &generator), BatchNorm2D(outChannels),
        ])
        shortcut =
            stride == 1 && inChannels == outChannels
            ? nil
            : Sequential([
                Conv2D(
                    inChannels, outChannels, kernel: (1, 1), stride: (stride, stride), padding: (0, 0),
                    generator: &generator),
                BatchNorm2D(outChannels),
            ])
        name("")
    }

    public var parameters: [Parameter] { main.parameters + (shortcut?.parameters ?? []) }
    public var buffers: [(name: String, tensor: Tensor)] { main.buffers + (shortcut?.buffers ?? []) }
    public var sublayers: [Layer] { [main] + (shortcut.map { [$0] } ?? []) }

    public func name(_ prefix: String) {
        // PyTorch's torchvision names: conv1, bn1, conv2, bn2, downsample.0, downsample.1.
        let names = ["conv1.", "bn1.", "", "conv2.", "bn2."]
        for (layer, name) in zip(main.layers, names) { layer.name(prefix + name) }
        shortcut?.name(prefix + "downsample.")
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let a = main.forward(x, training: training)
        let b = shortcut?.forward(x, training: training) ?? x
        sum.resize(a.shape)
        for i in 0..<a.count { sum.data[i] = a.data[i] + b.data[i] }
        return finalReLU.forward(sum, training: training)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let g = finalReLU.backward(dy)
        let dMain = main.backward(g)
        let dShort = shortcut?.backward(g) ?? g
        inputGradient.resize(dMain.shape)
        for i in 0..<dMain.count { inputGradient.data[i] = dMain.data[i] + dShort.data[i] }
        return inputGradient
    }
}
