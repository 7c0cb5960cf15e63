import Foundation

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
    /// The layers inside a container (none for a plain layer).
    var sublayers: [Layer] { get }
}

extension Layer {
    public var buffers: [(name: String, tensor: Tensor)] { [] }
    public var sublayers: [Layer] { [] }

    /// Gives every layer of the network `count` worker threads (at least 1).
    public func setThreads(_ count: Int) {
        (self as? Threaded)?.threads = max(1, count)
        for layer in sublayers { layer.setThreads(count) }
    }
}

/// A layer that splits its work over `threads` workers (a value of its own, never a global).
public protocol Threaded: AnyObject {
    var threads: Int { get set }
}

/// Layers applied one after another.
public final class Sequential: Layer {
    public let layers: [Layer]
    /// When set, seconds spent in each layer's forward and backward are added here.
    public var profile: LayerProfile?

    /// Names its layers `0.`, `1.`, ... at once, so no two parameters share a name even when
    /// nobody calls ``name(_:)``; a container holding this one renames it with its prefix.
    public init(_ layers: [Layer]) {
        self.layers = layers
        name("")
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var x = input
        for (i, layer) in layers.enumerated() {
            if let profile {
                let start = DispatchTime.now().uptimeNanoseconds
                x = layer.forward(x, training: training)
                profile.forward[i, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } else {
                x = layer.forward(x, training: training)
            }
        }
        return x
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var g = outputGradient
        for (i, layer) in layers.enumerated().reversed() {
            if let profile {
                let start = DispatchTime.now().uptimeNanoseconds
                g = layer.backward(g)
                profile.backward[i, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } else {
                g = layer.backward(g)
            }
        }
        return g
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [(name: String, tensor: Tensor)] { layers.flatMap(\.buffers) }
    public var sublayers: [Layer] { layers }

    public func name(_ prefix: String) {
        for (i, layer) in layers.enumerated() { layer.name("\(prefix)\(i).") }
    }
}

/// Time per layer of a `Sequential` (for benchmarks, never for tests).
public final class LayerProfile {
    public var forward: [Int: Double] = [:]
    public var backward: [Int: Double] = [:]
    public init() {}
}
