import CDNNL
import Foundation

/// Which code runs a layer's *inference* forward pass (`forward(training: false)`).
///
/// `.reference` is MoodDex's own im2col + deterministic sgemm: the same bits on every AVX2
/// machine, and what training, experiments and reports use. `.oneDNN` hands ``Conv2D`` to
/// oneDNN (libdnnl), which picks its kernel by CPU (AVX-512, AMX, ...): faster, but its sums
/// are ordered differently per machine, so results agree with the reference only to about
/// 1e-5 relative. It is opt-in per network (``Layer/setInferenceBackend(_:)``), for tagging,
/// classifying and benchmarks. `.oneDNNBF16` rounds inputs and weights to bfloat16 (float
/// output): a measurement, agreeing only to about 1e-2.
public enum InferenceBackend: String, Sendable, CaseIterable, Codable {
    case reference, oneDNN = "onednn", oneDNNBF16 = "onednn-bf16"
}

extension Layer {
    /// Sets the inference backend of every convolution in the network. Training
    /// (`forward(training: true)` and `backward`) follows ``setTrainingBackend(_:)`` instead.
    public func setInferenceBackend(_ backend: InferenceBackend) {
        (self as? Conv2D)?.inferenceBackend = backend
        for layer in sublayers { layer.setInferenceBackend(backend) }
    }
}

/// One oneDNN forward-inference convolution of a fixed input shape for one worker (one thread),
/// with the layer's weights reordered into oneDNN's layout once (and again only when they change).
final class OneDNNConvolution {
    struct Key: Hashable { var batch, height, width, worker: Int; var bf16: Bool }
    let key: Key
    private let handle: OpaquePointer
    private var weights: [Float] = [], bias: [Float] = []

    init(_ conv: Conv2D, key: Key) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard
            let handle = cdnnl_conv_create(
                Int32(key.batch), Int32(conv.inChannels), Int32(key.height), Int32(key.width), Int32(conv.outChannels),
                Int32(conv.kernel.h), Int32(conv.kernel.w), Int32(conv.stride.h), Int32(conv.stride.w),
                Int32(conv.padding.h), Int32(conv.padding.w), conv.bias == nil ? 0 : 1, key.bf16 ? 1 : 0, -1, 1,
                &message, Int32(message.count))
        else { throw OneDNNError(message: String(cString: message)) }
        self.key = key
        self.handle = handle
    }

    deinit { cdnnl_conv_destroy(handle) }

    /// oneDNN's name for the kernel it chose.
    var implementation: String { String(cString: cdnnl_conv_implementation(handle)) }

    /// Reorders `weight` and `bias` into the primitive when they differ from the last ones seen.
    func refresh(weight: Tensor, bias: Tensor?) throws {
        guard !Self.same(weight, weights) || !(bias.map { Self.same($0, self.bias) } ?? true) else { return }
        weights = Array(UnsafeBufferPointer(start: weight.data, count: weight.count))
        self.bias = bias.map { Array(UnsafeBufferPointer(start: $0.data, count: $0.count)) } ?? []
        guard cdnnl_conv_set_weights(handle, weights, bias == nil ? nil : self.bias) == 0 else {
            weights = []
            throw OneDNNError(message: "weights reorder failed")
        }
    }

    /// `y = conv(x)` (NCHW) for this primitive's batch, on the calling thread; false on failure.
    func run(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) -> Bool {
        cdnnl_conv_run(handle, x, y) == 0
    }

    private static func same(_ t: Tensor, _ copy: [Float]) -> Bool {
        t.count == copy.count && copy.withUnsafeBytes { memcmp($0.baseAddress!, t.data, $0.count) == 0 }
    }
}

struct OneDNNError: Error, CustomStringConvertible {
    let message: String
    var description: String { "oneDNN: \(message)" }
}

extension Conv2D {
    /// The inference forward pass on oneDNN, or nil (after one warning) when oneDNN cannot do it.
    ///
    /// Threads: the batch is split over the layer's `threads` workers exactly as the reference
    /// path splits it (``Compute/parallel(_:workers:grain:_:)``), and each worker runs its own
    /// primitive on one OpenMP thread, so oneDNN starts no threads of its own: libgomp's idle
    /// workers would otherwise spin for milliseconds after each convolution, taking a core from
    /// the ReLU, batch norm and pooling that follow.
    func forwardOneDNN(_ x: Tensor) -> Tensor? {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let workers = max(1, min(threads, n))
        let bf16 = inferenceBackend == .oneDNNBF16
        do {
            // Built (or found) here on the calling thread; the workers only run them.
            let primitives = try (0..<workers).map { worker in
                let key = OneDNNConvolution.Key(
                    batch: n * (worker + 1) / workers - n * worker / workers, height: h, width: w,
                    worker: worker, bf16: bf16)
                if let cached = oneDNN.first(where: { $0.key == key }) { return cached }
                let made = try OneDNNConvolution(self, key: key)
                // A few shapes per layer (the full batch and a last, smaller one) stay built.
                while oneDNN.count >= 4 * workers { oneDNN.removeFirst() }
                oneDNN.append(made)
                return made
            }
            for p in primitives { try p.refresh(weight: weight.value, bias: bias?.value) }
            let (ho, wo) = outputSize(height: h, width: w)
            output.resize([n, outChannels, ho, wo])
            let inSize = inChannels * h * w, outSize = outChannels * ho * wo
            var succeeded = [Bool](repeating: false, count: workers)
            succeeded.withUnsafeMutableBufferPointer { ok in
                Compute.parallel(n, workers: workers) { worker, samples in
                    ok[worker] = primitives[worker].run(
                        x.data + samples.lowerBound * inSize, into: output.data + samples.lowerBound * outSize)
                }
            }
            guard !succeeded.contains(false) else { throw OneDNNError(message: "convolution failed") }
            return output
        } catch {
            if !oneDNNFailed {
                FileHandle.standardError.write(
                    Data("mooddex: \(error); Conv2D falls back to the reference code\n".utf8))
            }
            oneDNNFailed = true
            return nil
        }
    }

    /// oneDNN's name for the kernel of the most recent shape (nil before a oneDNN forward pass).
    public var oneDNNImplementation: String? { oneDNN.last?.implementation }
}
