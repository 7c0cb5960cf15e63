import Foundation
import MoodCore

/// 2-D convolution, NCHW, through im2col and one `sgemm` per sample.
///
/// Shapes: input `[N, Cin, H, W]`, weight `[Cout, Cin, kh, kw]`, bias `[Cout]`,
/// output `[N, Cout, Ho, Wo]` with `Ho = (H + 2 ph - kh) / sh + 1` (likewise Wo).
///
/// Forward: `col = im2col(x_n)` is `[Cin kh kw, Ho Wo]`; `y_n = W col + b`
/// (`W` seen as `[Cout, Cin kh kw]`).
/// Backward: `dW += dy_n col^T`, `db += sum_p dy_n`, `dcol = W^T dy_n`, `dx_n = col2im(dcol)`.
/// The im2col matrix is rebuilt in backward instead of being kept: a batch of 32 would
/// need gigabytes for it. ``Conv2D/reference(_:shape:weight:weightShape:bias:stride:padding:)`` is the plain
/// direct convolution in Double that the tests hold this one to.
public final class Conv2D: Layer, Threaded {
    /// Worker threads for this layer (see ``Layer/setThreads(_:)``).
    public var threads = 1
    public let inChannels: Int, outChannels: Int
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: (h: Int, w: Int)
    public let weight: Parameter
    public let bias: Parameter?
    /// The first layer of a network need not compute the gradient for its input; off,
    /// `backward` returns an empty tensor (``Layer``'s "not computed").
    public var computesInputGradient = true
    /// What runs `forward(training: false)` (see ``InferenceBackend``; `.reference` unless set).
    public var inferenceBackend = InferenceBackend.reference

    let output = Tensor(shape: [0])
    var oneDNN: [OneDNNConvolution] = []  // built primitives, one per input shape (OneDNNConvolution.swift)
    var oneDNNFailed = false
    /// What runs `forward(training: true)` and `backward` (see ``TrainingBackend``; `.reference` unless set).
    public var trainingBackend = TrainingBackend.reference
    var oneDNNTraining: [OneDNNTrainingConvolution] = []  // per worker (OneDNNTraining.swift)
    var trainedOnOneDNN = false
    var oneDNNTrainingFailed = false  // apart from oneDNNFailed: one path failing leaves the other
    let inputGradient = Tensor(shape: [0])
    var input: Tensor?
    private var columns: [Tensor] = []  // one im2col buffer per worker
    var weightGradients: [Tensor] = []  // per-worker partial dW, summed in worker order
    var biasGradients: [Tensor] = []

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int) = (3, 3), stride: (Int, Int) = (1, 1),
        padding: (Int, Int)? = nil, bias: Bool = false, generator: inout SeededGenerator
    ) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding.map { ($0.0, $0.1) } ?? (kernel.0 / 2, kernel.1 / 2)
        weight = Parameter(name: "weight", shape: [outChannels, inChannels, kernel.0, kernel.1])
        // Kaiming normal for ReLU networks: std = sqrt(2 / fan_in).
        let std = (2 / Float(inChannels * kernel.0 * kernel.1)).squareRoot()
        for i in 0..<weight.value.count { weight.value[i] = std * generator.nextNormal() }
        self.bias = bias ? Parameter(name: "bias", shape: [outChannels], decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func name(_ prefix: String) {
        weight.name = prefix + "weight"
        bias?.name = prefix + "bias"
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding.h - kernel.h) / stride.h + 1, (width + 2 * padding.w - kernel.w) / stride.w + 1)
    }

    func workspaces(_ workers: Int, rows: Int, columns count: Int) {
        while columns.count < workers {
            columns.append(Tensor(shape: [0])); weightGradients.append(Tensor(shape: [0]));
            biasGradients.append(Tensor(shape: [0]))
        }
        for w in 0..<workers { columns[w].resize([rows, count]) }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(
            x.shape.count == 4 && x.shape[1] == inChannels, "Conv2D expects [N, \(inChannels), H, W], got \(x.shape)")
        if !training && inferenceBackend != .reference && !oneDNNFailed && x.count > 0, let y = forwardOneDNN(x) {
            input = nil; return y
        }
        input = x
        trainedOnOneDNN = false
        if training && trainingBackend.usesOneDNN && !oneDNNTrainingFailed && x.count > 0,
            let y = forwardTrainingOneDNN(x)
        {
            trainedOnOneDNN = true
            return y
        }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = outputSize(height: h, width: w)
        output.resize([n, outChannels, ho, wo])
        let rows = inChannels * kernel.h * kernel.w, plane = ho * wo
        let workers = min(threads, n)
        let tile = tileRows(rows: rows, outHeight: ho, outWidth: wo)
        workspaces(workers, rows: rows, columns: tile * wo)
        Compute.parallel(n, workers: workers) { worker, samples in
            let col = columns[worker].data
            for s in samples {
                let y = output.data + s * outChannels * plane
                for top in Swift.stride(from: 0, to: ho, by: tile) {
                    let bottom = min(ho, top + tile), width = (bottom - top) * wo
                    im2col(
                        x.data + s * inChannels * h * w, height: h, width: w, into: col, outRows: top..<bottom,
                        outWidth: wo)
                    Compute.sgemm(
                        m: outChannels, n: width, k: rows, a: weight.value.data, lda: rows, b: col, ldb: width,
                        c: y + top * wo, ldc: plane)
                }
                if let bias {
                    for o in 0..<outChannels {
                        let b = bias.value.data[o], row = y + o * plane
                        for p in 0..<plane { row[p] += b }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2D.backward before forward") }
        if !computesInputGradient { inputGradient.resize([0]) }  // "not computed" (see ``Layer``)
        if trainedOnOneDNN, let dx = backwardOneDNN(dy, x: x) { return dx }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = (dy.shape[2], dy.shape[3])
        let rows = inChannels * kernel.h * kernel.w, plane = ho * wo
        let workers = min(threads, n)
        let tile = tileRows(rows: rows, outHeight: ho, outWidth: wo)
        workspaces(workers, rows: rows, columns: tile * wo)
        if computesInputGradient { inputGradient.resize(x.shape) }
        Compute.parallel(n, workers: workers) { worker, samples in
            let col = columns[worker].data
            let dW = weightGradients[worker], dB = biasGradients[worker]
            dW.resize(weight.value.shape); dW.zero()
            dB.resize([outChannels]); dB.zero()
            for s in samples {
                let g = dy.data + s * outChannels * plane
                let dx = inputGradient.data + s * inChannels * h * w
                if computesInputGradient { dx.update(repeating: 0, count: inChannels * h * w) }
                for top in Swift.stride(from: 0, to: ho, by: tile) {
                    let bottom = min(ho, top + tile), width = (bottom - top) * wo
                    im2col(
                        x.data + s * inChannels * h * w, height: h, width: w, into: col, outRows: top..<bottom,
                        outWidth: wo)
                    Compute.sgemm(
                        transposeB: true, m: outChannels, n: rows, k: width, a: g + top * wo, lda: plane, b: col,
                        ldb: width,
                        beta: 1, c: dW.data, ldc: rows)
                    if computesInputGradient {
                        Compute.sgemm(
                            transposeA: true, m: rows, n: width, k: outChannels, a: weight.value.data, lda: rows,
                            b: g + top * wo, ldb: plane, c: col, ldc: width)
                        col2im(col, height: h, width: w, into: dx, outRows: top..<bottom, outWidth: wo)
                    }
                }
                if bias != nil {
                    for o in 0..<outChannels {
                        var sum: Float = 0
                        for p in 0..<plane { sum += g[o * plane + p] }
                        dB.data[o] += sum
                    }
                }
            }
        }
        for worker in 0..<workers {
            let partial = weightGradients[worker].data
            for i in 0..<weight.gradient.count { weight.gradient.data[i] += partial[i] }
            if let bias { for o in 0..<outChannels { bias.gradient.data[o] += biasGradients[worker].data[o] } }
        }
        return inputGradient
    }

    /// Output rows per im2col tile: the tile (`rows x tile Wo` floats) stays within about
    /// 1 MiB, so it is still in cache when sgemm reads it.
    func tileRows(rows: Int, outHeight: Int, outWidth: Int) -> Int {
        max(1, min(outHeight, (1 << 22) / max(1, rows * outWidth)))
    }

    /// Whether each im2col row is a run of whole input rows: a kernel one column wide, no
    /// column padding, stride 1 (so `Wo = W` and consecutive output rows read consecutive input rows).
    var copiesWholeRows: Bool { allowsWholeRowCopies && kernel.w == 1 && padding.w == 0 && stride == (1, 1) }
    /// Off, every shape takes the general im2col (tests hold the two to the same bits).
    var allowsWholeRowCopies = true

    /// The output rows of `outRows` whose input row for kernel row `tap` lies inside the input
    /// (stride 1), as `first..<last` (empty when `last <= first`).
    private func validRows(_ outRows: Range<Int>, tap: Int, height h: Int) -> (first: Int, last: Int) {
        let first = min(max(outRows.lowerBound, padding.h - tap), outRows.upperBound)
        return (first, max(first, min(outRows.upperBound, h + padding.h - tap)))
    }

    /// For output rows `outRows`: `col[(c kh + i) kw + j, (oh - first) Wo + ow] = x[c, oh sh - ph + i, ow sw - pw + j]` (0 outside).
    private func im2col(
        _ x: UnsafePointer<Float>, height h: Int, width w: Int, into col: UnsafeMutablePointer<Float>,
        outRows: Range<Int>, outWidth wo: Int
    ) {
        let plane = outRows.count * wo
        if copiesWholeRows {
            // Column rows are runs of whole input rows (e.g. musicnn's 7 x 1 convolutions over
            // [C, T, 1]): one copy per (c, i), not one per output row.
            for c in 0..<inChannels {
                for i in 0..<kernel.h {
                    let row = col + (c * kernel.h + i) * plane
                    let (first, last) = validRows(outRows, tap: i, height: h)
                    let head = (first - outRows.lowerBound) * wo, body = (last - first) * wo
                    if head > 0 { row.update(repeating: 0, count: head) }
                    if body > 0 { (row + head).update(from: x + (c * h + first - padding.h + i) * w, count: body) }
                    if head + body < plane { (row + head + body).update(repeating: 0, count: plane - head - body) }
                }
            }
            return
        }
        for c in 0..<inChannels {
            for i in 0..<kernel.h {
                for j in 0..<kernel.w {
                    let row = col + ((c * kernel.h + i) * kernel.w + j) * plane
                    for oh in outRows {
                        let ih = oh * stride.h - padding.h + i
                        let out = row + (oh - outRows.lowerBound) * wo
                        guard ih >= 0 && ih < h else { out.update(repeating: 0, count: wo); continue }
                        let source = x + (c * h + ih) * w
                        if stride.w == 1 {
                            // Valid ow: 0 <= ow - pw + j < w.
                            let first = max(0, padding.w - j), last = min(wo, w + padding.w - j)
                            if first > 0 { out.update(repeating: 0, count: first) }
                            if last > first {
                                (out + first).update(from: source + first - padding.w + j, count: last - first)
                            }
                            if last < wo { (out + max(last, 0)).update(repeating: 0, count: wo - max(last, 0)) }
                        } else {
                            for ow in 0..<wo {
                                let iw = ow * stride.w - padding.w + j
                                out[ow] = iw >= 0 && iw < w ? source[iw] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col for output rows `outRows`: adds each column entry back to the
    /// input position it came from (into `dx`, which the caller zeroed).
    private func col2im(
        _ col: UnsafePointer<Float>, height h: Int, width w: Int, into dx: UnsafeMutablePointer<Float>,
        outRows: Range<Int>, outWidth wo: Int
    ) {
        let plane = outRows.count * wo
        if copiesWholeRows {
            // The same (c, i) order and one addition per element and tap, as below.
            for c in 0..<inChannels {
                for i in 0..<kernel.h {
                    let (first, last) = validRows(outRows, tap: i, height: h)
                    let source = col + (c * kernel.h + i) * plane + (first - outRows.lowerBound) * wo
                    let target = dx + (c * h + first - padding.h + i) * w
                    for k in 0..<max(0, (last - first) * wo) { target[k] += source[k] }
                }
            }
            return
        }
        for c in 0..<inChannels {
            for i in 0..<kernel.h {
                for j in 0..<kernel.w {
                    let row = col + ((c * kernel.h + i) * kernel.w + j) * plane
                    for oh in outRows {
                        let ih = oh * stride.h - padding.h + i
                        guard ih >= 0 && ih < h else { continue }
                        let target = dx + (c * h + ih) * w, source = row + (oh - outRows.lowerBound) * wo
                        if stride.w == 1 {
                            let first = max(0, padding.w - j), last = min(wo, w + padding.w - j)
                            if last > first {
                                let t = target + first - padding.w + j
                                for ow in 0..<(last - first) { t[ow] += source[first + ow] }
                            }
                        } else {
                            for ow in 0..<wo {
                                let iw = ow * stride.w - padding.w + j
                                if iw >= 0 && iw < w { target[iw] += source[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The direct convolution, in Double: the reference the fast path is tested against.
    public static func reference(
        _ x: [Double], shape: [Int], weight: [Double], weightShape: [Int], bias: [Double]?,
        stride: (Int, Int), padding: (Int, Int)
    ) -> (values: [Double], shape: [Int]) {
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (cout, kh, kw) = (weightShape[0], weightShape[2], weightShape[3])
        let ho = (h + 2 * padding.0 - kh) / stride.0 + 1, wo = (w + 2 * padding.1 - kw) / stride.1 + 1
        var y = [Double](repeating: 0, count: n * cout * ho * wo)
        for s in 0..<n {
            for o in 0..<cout {
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var sum = bias?[o] ?? 0
                        for c in 0..<cin {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let ih = oh * stride.0 - padding.0 + i, iw = ow * stride.1 - padding.1 + j
                                    if ih >= 0 && ih < h && iw >= 0 && iw < w {
                                        sum +=
                                            weight[((o * cin + c) * kh + i) * kw + j]
                                            * x[((s * cin + c) * h + ih) * w + iw]
                                    }
                                }
                            }
                        }
                        y[((s * cout + o) * ho + oh) * wo + ow] = sum
                    }
                }
            }
        }
        return (y, [n, cout, ho, wo])
    }
}
