/// A layer: forward and backward side by side.
///
/// `forward` returns a tensor the layer owns (valid until it runs again); `backward`
/// takes the gradient of the loss with respect to that output, adds the gradients of
/// the layer's parameters into their `gradient` tensors, and returns the gradient with
/// respect to the input (owned by the layer as well).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Trainable parameters, in a fixed order.
    var parameters: [Parameter] { get }
    /// Running statistics and other non-trained state saved with the weights (BatchNorm).
    var buffers: [(name: String, tensor: Tensor)] { get }
    /// Prefixes every parameter and buffer name (`body.0.` + `weight`).
    func name(_ prefix: String)
}

extension Layer {
    public var buffers: [(name: String, tensor: Tensor)] { [] }
}

/// Layers applied one after another.
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var x = input
        for layer in layers { x = layer.forward(x, training: training) }
        return x
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var g = outputGradient
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [(name: String, tensor: Tensor)] { layers.flatMap(\.buffers) }

    public func name(_ prefix: String) {
        for (i, layer) in layers.enumerated() { layer.name("\(prefix)\(i).") }
    }
}
