import Foundation
import MoodCore
import MoodTensor

/// Moving musicnn's TensorFlow variables into ``MusicnnNetwork``'s layers.
///
/// Layers are matched in network order to TensorFlow's creation order (`conv2d`, `conv2d_1`,
/// ...; `batch_normalization`, `batch_normalization_1`, ...; `dense`, `dense_1`; VGG's
/// convolutions are `1CNN` ... `5CNN`). Layouts differ: a TensorFlow kernel is
/// `[kh, kw, in, out]` (ours `[out, in, kh, kw]`); musicnn's mid end convolves a
/// `[T, 561, 1]` map with a `[7, 561, 1, 64]` kernel, which is our `(7 x 1)` convolution over
/// 561 channels; a dense kernel is `[in, out]` (ours `[out, in]`); VGG flattens pool5 in
/// NHWC order (`h * 128 + c`), ours in NCHW (`c * 2 + h`).
extension MusicnnNetwork {
    /// The network's layers of each kind, in order.
    func layers() -> (convs: [Conv2D], norms: [BatchNorm2D], denses: [Linear]) {
        var convs = [Conv2D](), norms = [BatchNorm2D](), denses = [Linear]()
        func walk(_ layer: Layer) {
            if let c = layer as? Conv2D { convs.append(c) }
            if let b = layer as? BatchNorm2D { norms.append(b) }
            if let d = layer as? Linear { denses.append(d) }
            layer.sublayers.forEach(walk)
        }
        walk(network)
        return (convs, norms, denses)
    }

    static func numbered(_ base: String, _ i: Int) -> String { i == 0 ? base : "\(base)_\(i)" }

    /// Loads every weight from a TensorFlow checkpoint of this architecture (checking every
    /// shape and CRC). The output layer is loaded only when its size matches the checkpoint's.
    public func load(_ bundle: TensorBundle, loadOutput: Bool = true) throws {
        let path = bundle.indexPath
        func tensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
            guard let entry = bundle.entry(name) else {
                throw InputError(path, "no variable \(name): not a musicnn \(architecture) checkpoint")
            }
            return (entry.shape, try bundle.floats(name))
        }
        let (convs, norms, denses) = layers()
        for (i, conv) in convs.enumerated() {
            let base = architecture == .vgg ? "\(i + 1)CNN" : Self.numbered("conv2d", i)
            let kernel = try tensor(base + "/kernel"), bias = try tensor(base + "/bias")
            try copyKernel(kernel, into: conv, name: base, path: path)
            guard let b = conv.bias, bias.values.count == b.value.count else {
                throw InputError(
                    path, "\(base)/bias has \(bias.values.count) values, the layer needs \(conv.outChannels)")
            }
            b.value.copy(from: bias.values)
        }
        for (i, norm) in norms.enumerated() {
            let base = Self.numbered("batch_normalization", i)
            let parts = [
                ("gamma", norm.gamma.value), ("beta", norm.beta.value),
                ("moving_mean", norm.runningMean), ("moving_variance", norm.runningVariance),
            ]
            for (part, target) in parts {
                let t = try tensor("\(base)/\(part)")
                guard t.values.count == target.count else {
                    throw InputError(
                        path, "\(base)/\(part) has shape \(t.shape), the layer needs \(norm.channels) values")
                }
                target.copy(from: t.values)
            }
        }
        for (i, dense) in denses.enumerated() {
            let base = Self.numbered("dense", i)
            let isOutput = i == denses.count - 1
            let kernel = try tensor(base + "/kernel"), bias = try tensor(base + "/bias")
            if isOutput && !loadOutput { continue }
            guard kernel.shape == [dense.inFeatures, dense.outFeatures] else {
                throw InputError(
                    path,
                    "\(base)/kernel has shape \(kernel.shape), the layer needs [\(dense.inFeatures), \(dense.outFeatures)]"
                )
            }
            let (inputs, outputs) = (dense.inFeatures, dense.outFeatures)
            // VGG's pool5 is [2, 1, 128] in NHWC: TensorFlow's input index h * 128 + c is our c * 2 + h.
            let permuted = architecture == .vgg && isOutput
            for o in 0..<outputs {
                for j in 0..<inputs {
                    let source = permuted ? (j % 2) * 128 + j / 2 : j
                    dense.weight.value[o * inputs + j] = kernel.values[source * outputs + o]
                }
            }
            dense.bias.value.copy(from: bias.values)
        }
    }

    private func copyKernel(_ kernel: (shape: [Int], values: [Float]), into conv: Conv2D, name: String, path: String)
        throws
    {
        guard kernel.shape.count == 4 else {
            throw InputError(path, "\(name)/kernel has shape \(kernel.shape), not a 2-D convolution kernel")
        }
        let (kh, kw, cin, cout) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
        let w = conv.weight.value
        if kh == conv.kernel.h && kw == conv.kernel.w && cin == conv.inChannels && cout == conv.outChannels {
            for o in 0..<cout {
                for i in 0..<cin {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            w[((o * cin + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * cout + o]
                        }
                    }
                }
            }
        } else if cin == 1 && kh == conv.kernel.h && conv.kernel.w == 1 && kw == conv.inChannels
            && cout == conv.outChannels
        {
            // The mid end: frequency-as-width in TensorFlow, channels here.
            for o in 0..<cout {
                for c in 0..<kw {
                    for y in 0..<kh {
                        w[(o * kw + c) * kh + y] = kernel.values[(y * kw + c) * cout + o]
                    }
                }
            }
        } else {
            throw InputError(
                path,
                "\(name)/kernel has shape \(kernel.shape), the layer needs \(conv.kernel.h) x \(conv.kernel.w) from \(conv.inChannels) to \(conv.outChannels) channels"
            )
        }
    }
}
