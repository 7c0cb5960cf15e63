import Foundation

/// A layer: forward and backward side by side.
///
/// `forward` returns a tensor the layer owns (valid until it runs again); `backward`
/// takes the gradient of the loss with respect to that output, adds the gradients of
/// the layer's parameters into their `gradient` tensors, and returns the gradient with
/// respect to the input (owned by the layer as well). An empty tensor means the input's
/// gradient was not computed (a ``Conv2D`` with `computesInputGradient` off, reading the
/// network's input); containers pass it on and differentiate nothing before it.
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

    /// Whether a batch norm followed by a ReLU and a max pool runs as one fused layer (same
    /// bits, a fraction of the memory traffic; NormReLUPool.swift), and in evaluation also a
    /// ReLU followed by a batch norm and a max pool (ReLUNormPool.swift) and MoodCNN's first
    /// block (FirstBlock.swift). Off, each layer runs alone.
    public var fusesNormReLUPool = true
    /// The steps of the last forward pass, `(first layer, layer count)`, replayed backwards.
    private(set) var steps = [(start: Int, count: Int)]()
    /// The inputs of the fused evaluation blocks of the last forward pass, by first layer.
    private var blockInputs = [Int: Tensor]()

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var x = input
        steps.removeAll(keepingCapacity: true)
        blockInputs.removeAll()
        var i = 0
        while i < layers.count {
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if !training, fusesNormReLUPool, x.shape.count == 4, i + 3 < layers.count, let conv = layers[i] as? Conv2D,
                conv.fusesAsFirstBlock, x.shape[1] == 1, let norm = layers[i + 1] as? BatchNorm2D,
                norm.channels == conv.outChannels, layers[i + 2] is ReLU, let pool = layers[i + 3] as? MaxPool2D
            {
                blockInputs[i] = x
                x = norm.forwardFirstBlock(x, conv: conv, pool: pool)  // FirstBlock.swift
                steps.append((i, 4))
            } else if !training, fusesNormReLUPool, x.shape.count == 4, i + 2 < layers.count, layers[i] is ReLU,
                let norm = layers[i + 1] as? BatchNorm2D, let pool = layers[i + 2] as? MaxPool2D
            {
                blockInputs[i] = x
                x = norm.forwardReLUNormPool(x, pool: pool)  // ReLUNormPool.swift
                steps.append((i, 3))
            } else if fusesNormReLUPool, x.shape.count == 4, i + 2 < layers.count, let norm = layers[i] as? BatchNorm2D,
                layers[i + 1] is ReLU, let pool = layers[i + 2] as? MaxPool2D
            {
                x = norm.forwardNormReLUPool(x, training: training, pool: pool)
                steps.append((i, 3))
            } else {
                x = layers[i].forward(x, training: training)
                steps.append((i, 1))
            }
            if let profile {
                profile.forward[i, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            i += steps.last!.count
        }
        return x
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(!steps.isEmpty || layers.isEmpty, "Sequential.backward before forward")
        var g = outputGradient
        for (i, count) in steps.reversed() {
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if count == 4 {
                // The fused first block kept nothing to differentiate: run it again apart, on the
                // reference path (the one whose bits it gave, and which keeps the convolution's input).
                let conv = layers[i] as! Conv2D, norm = layers[i + 1] as! BatchNorm2D
                let pool = layers[i + 3] as! MaxPool2D
                let backend = conv.inferenceBackend
                conv.inferenceBackend = .reference
                let y = conv.forward(blockInputs[i]!, training: false)
                conv.inferenceBackend = backend
                _ = norm.forwardNormReLUPool(y, training: false, pool: pool)
                g = conv.backward(norm.backwardNormReLUPool(g, pool: pool))
            } else if count == 3, layers[i] is ReLU {
                // The fused evaluation pass kept nothing to differentiate: run the three again apart.
                var y = blockInputs[i]!
                for layer in layers[i..<(i + 3)] { y = layer.forward(y, training: false) }
                for layer in layers[i..<(i + 3)].reversed() { g = layer.backward(g) }
            } else if count == 3 {
                g = (layers[i] as! BatchNorm2D).backwardNormReLUPool(g, pool: layers[i + 2] as! MaxPool2D)
            } else {
                g = layers[i].backward(g)
            }
            if let profile {
                profile.backward[i, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            if g.count == 0 { break }  // no input gradient from here down (see ``Layer``)
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
