import Foundation
import MoodCore
import MoodTensor

/// A training run's whole state in one safetensors file: weights and running statistics
/// (`model.*`, named as PyTorch would), optimiser moments (`optimizer.*`), random
/// generator states (`rng.*`, U64), and in the metadata the schedule, the epoch reached
/// and the history so far. Written atomically.
public enum Checkpoint {
    public static func modelTensors(_ network: Layer) -> [String: Safetensors.Entry] {
        var tensors = [String: Safetensors.Entry]()
        for p in network.parameters {
            tensors["model." + p.name] = Safetensors.Entry(shape: p.value.shape, values: .f32(p.value.values))
        }
        for b in network.buffers {
            tensors["model." + b.name] = Safetensors.Entry(shape: b.tensor.shape, values: .f32(b.tensor.values))
        }
        return tensors
    }

    /// Loads `model.*` tensors (or bare names when `prefix` is empty) into the network,
    /// checking that every parameter is present with its shape.
    public static func loadModel(
        _ network: Layer, from tensors: [String: Safetensors.Entry], prefix: String = "model.", path: String
    ) throws {
        for p in network.parameters {
            guard let entry = tensors[prefix + p.name] else { throw InputError(path, "no tensor \(prefix + p.name)") }
            guard entry.shape == p.value.shape else {
                throw InputError(
                    path, "tensor \(prefix + p.name) has shape \(entry.shape), the model needs \(p.value.shape)")
            }
            p.value.copy(from: entry.floats)
        }
        for b in network.buffers {
            guard let entry = tensors[prefix + b.name] else { throw InputError(path, "no tensor \(prefix + b.name)") }
            guard entry.shape == b.tensor.shape else {
                throw InputError(path, "tensor \(prefix + b.name) has shape \(entry.shape)")
            }
            b.tensor.copy(from: entry.floats)
        }
    }

    /// Every layer that draws random numbers, in network order.
    public static func randomLayers(_ layer: Layer) -> [RandomStateful] {
        ((layer as? RandomStateful).map { [$0] } ?? []) + layer.sublayers.flatMap(randomLayers)
    }
}
