import CDNNL
import Foundation

/// Which code runs a convolution's *training* passes (`forward(training: true)` and `backward`).
///
/// `.reference` is MoodDex's own im2col + deterministic sgemm: the same bits on every AVX2
/// machine, and what experiments and reports use. `.oneDNN` runs oneDNN's forward-training,
/// backward-data and backward-weights primitives (the kernels PyTorch uses on CPU), picked by
/// CPU: faster, but summed in another order per machine, so a trained network agrees with the
/// reference only to rounding (about 1e-5 relative per step) and runs are repeatable only on the
/// same kind of CPU with the same thread count. Opt-in per network (``Layer/setTrainingBackend(_:)``).
///
/// `.oneDNNBF16` is mixed precision on the same primitives, like PyTorch's bf16 autocast for
/// convolutions: what they multiply (the input, the weights and the output gradient) is rounded to
/// bfloat16 (8 significant bits), while everything they write (outputs, input and weight
/// gradients) is accumulated and kept in fp32, and so are the master weights, the optimiser and
/// every other layer. No loss scaling is needed: bf16 has fp32's exponent range. Convolutions
/// with fewer than 16 input channels (MoodCNN's first) stay fp32.
public enum TrainingBackend: String, Sendable, CaseIterable, Codable {
    case reference, oneDNN = "onednn", oneDNNBF16 = "onednn-bf16"

    /// Whether oneDNN runs the training passes.
    public var usesOneDNN: Bool { self != .reference }

    /// The inference backend that computes the same way.
    public var inference: InferenceBackend {
        switch self {
        case .reference: .reference
        case .oneDNN: .oneDNN
        case .oneDNNBF16: .oneDNNBF16
        }
    }
}

extension Layer {
    /// Sets the training backend of every convolution in the network, and the summation
    /// order of every batch norm: the reference keeps `.sequential` (the reports' bits), the
    /// oneDNN backends take the faster `.lanes` (see ``Summation``).
    public func setTrainingBackend(_ backend: TrainingBackend) {
        (self as? Conv2D)?.trainingBackend = backend
        (self as? BatchNorm2D)?.summation = backend.usesOneDNN ? .lanes : .sequential
        for layer in sublayers { layer.setTrainingBackend(backend) }
    }

    /// Whether any convolution of the network trains on oneDNN.
    public var trainsOnOneDNN: Bool { oneDNNTrainingBackend != nil }

    /// Whether a convolution set to train on oneDNN had to fall back to the reference code
    /// (oneDNN could not build its primitives: e.g. bf16 without AVX-512). Benchmarks check it,
    /// so that a fallback is not timed under oneDNN's name.
    public var oneDNNTrainingFellBack: Bool {
        if let conv = self as? Conv2D, conv.trainingBackend.usesOneDNN, conv.oneDNNTrainingFailed { return true }
        return sublayers.contains { $0.oneDNNTrainingFellBack }
    }

    /// The oneDNN backend the network's convolutions train on (the first found), nil for none.
    public var oneDNNTrainingBackend: TrainingBackend? {
        if let conv = self as? Conv2D, conv.trainingBackend.usesOneDNN { return conv.trainingBackend }
        return sublayers.lazy.compactMap(\.oneDNNTrainingBackend).first
    }
}

/// One worker's oneDNN training convolution for a fixed input shape (one OpenMP thread).
final class OneDNNTrainingConvolution {
    struct Key: Hashable {
        var batch, height, width, worker: Int
        var bf16: Bool
    }
    let key: Key
    private let handle: OpaquePointer

    init(_ conv: Conv2D, key: Key) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard
            let handle = cdnnl_train_create(
                Int32(key.batch), Int32(conv.inChannels), Int32(key.height), Int32(key.width), Int32(conv.outChannels),
                Int32(conv.kernel.h), Int32(conv.kernel.w), Int32(conv.stride.h), Int32(conv.stride.w),
                Int32(conv.padding.h), Int32(conv.padding.w), conv.bias == nil ? 0 : 1,
                conv.computesInputGradient ? 1 : 0, key.bf16 ? 1 : 0, 1, &message, Int32(message.count))
        else { throw OneDNNError(message: String(cString: message)) }
        self.key = key
        self.handle = handle
    }

    deinit { cdnnl_train_destroy(handle) }

    /// oneDNN's kernel names: forward, backward data, backward weights.
    var implementations: [String] { (0..<3).map { String(cString: cdnnl_train_implementation(handle, Int32($0))) } }

    func forward(weight: Tensor, bias: Tensor?, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) -> Bool {
        cdnnl_train_forward(handle, weight.data, bias?.data, x, y) == 0
    }

    /// dx (when given) and this worker's dW, db (overwritten).
    func backward(
        weight: Tensor, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
        dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?
    ) -> Bool {
        cdnnl_train_backward(handle, weight.data, x, dy, dx, dw, db) == 0
    }
}

extension Conv2D {
    /// The primitives of every worker for a batch of `n` of `h x w`, built on the calling thread
    /// (the workers only run them); the batch is split as the reference path splits it.
    private func trainingPrimitives(n: Int, h: Int, w: Int) throws -> [OneDNNTrainingConvolution] {
        let workers = max(1, min(threads, n))
        return try (0..<workers).map { worker in
            let key = OneDNNTrainingConvolution.Key(
                batch: n * (worker + 1) / workers - n * worker / workers, height: h, width: w, worker: worker,
                bf16: trainingBackend == .oneDNNBF16)
            if let cached = oneDNNTraining.first(where: { $0.key == key }) { return cached }
            let made = try OneDNNTrainingConvolution(self, key: key)
            while oneDNNTraining.count >= 4 * workers { oneDNNTraining.removeFirst() }
            oneDNNTraining.append(made)
            return made
        }
    }

    private func oneDNNFallback(_ error: Error) {
        if !oneDNNTrainingFailed {
            FileHandle.standardError.write(
                Data("mooddex: \(error); Conv2D trains on the reference code from here on\n".utf8))
        }
        oneDNNTrainingFailed = true
    }

    /// The training forward pass on oneDNN, or nil (after one warning) when oneDNN cannot do it.
    func forwardTrainingOneDNN(_ x: Tensor) -> Tensor? {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        do {
            let primitives = try trainingPrimitives(n: n, h: h, w: w)
            let (ho, wo) = outputSize(height: h, width: w)
            output.resize([n, outChannels, ho, wo])
            let inSize = inChannels * h * w, outSize = outChannels * ho * wo
            var succeeded = [Bool](repeating: false, count: primitives.count)
            succeeded.withUnsafeMutableBufferPointer { ok in
                Compute.parallel(n, workers: primitives.count) { worker, samples in
                    ok[worker] = primitives[worker].forward(
                        weight: weight.value, bias: bias?.value, x: x.data + samples.lowerBound * inSize,
                        y: output.data + samples.lowerBound * outSize)
                }
            }
            guard !succeeded.contains(false) else { throw OneDNNError(message: "training forward failed") }
            return output
        } catch {
            oneDNNFallback(error)
            return nil
        }
    }

    /// The backward pass on oneDNN after ``forwardTrainingOneDNN(_:)``: each worker's dW and db
    /// into its own buffer, then added to the parameters' gradients in worker order.
    func backwardOneDNN(_ dy: Tensor, x: Tensor) -> Tensor? {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        do {
            let primitives = try trainingPrimitives(n: n, h: h, w: w)
            let workers = primitives.count
            while weightGradients.count < workers {
                weightGradients.append(Tensor(shape: [0])); biasGradients.append(Tensor(shape: [0]))
            }
            for k in 0..<workers {
                weightGradients[k].resize(weight.value.shape); biasGradients[k].resize([outChannels])
            }
            if computesInputGradient { inputGradient.resize(x.shape) }
            let inSize = inChannels * h * w, outSize = dy.count / max(n, 1)
            var succeeded = [Bool](repeating: false, count: workers)
            succeeded.withUnsafeMutableBufferPointer { ok in
                Compute.parallel(n, workers: workers) { worker, samples in
                    let first = samples.lowerBound
                    ok[worker] = primitives[worker].backward(
                        weight: weight.value, x: x.data + first * inSize, dy: dy.data + first * outSize,
                        dx: computesInputGradient ? inputGradient.data + first * inSize : nil,
                        dw: weightGradients[worker].data, db: bias == nil ? nil : biasGradients[worker].data)
                }
            }
            guard !succeeded.contains(false) else { throw OneDNNError(message: "training backward failed") }
            for worker in 0..<workers {
                let partial = weightGradients[worker].data
                for i in 0..<weight.gradient.count { weight.gradient.data[i] += partial[i] }
                if let bias { for o in 0..<outChannels { bias.gradient.data[o] += biasGradients[worker].data[o] } }
            }
            return inputGradient
        } catch {
            oneDNNFallback(error)
            return nil
        }
    }

    /// oneDNN's kernel names for the most recent training shape: forward, backward data, backward
    /// weights (nil before a oneDNN training pass).
    public var oneDNNTrainingImplementations: [String]? { oneDNNTraining.last?.implementations }
}
