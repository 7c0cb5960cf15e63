/// Batch norm, ReLU and max pool run as one layer, with the same bits as the three apart.
///
/// Apart, the three layers write four full-size tensors per step (batch norm's output, ReLU's,
/// and in the backward pass the pool's and ReLU's gradients) and read each of them again: in
/// MoodCNN's first block, tensors of `[32, 32, 96, 1292]` (0.5 GB each). Fused:
///
/// - forward: the batch statistics (the same pass as ``BatchNorm2D``), then one pass that
///   normalises and rectifies a row of windows' input rows into a small buffer and pools them,
///   writing only the pooled output and the positions of the maxima;
/// - backward: per plane `(sample, channel)`, the pool's gradient is scattered into a
///   plane-sized scratch buffer that stays in cache, masked where the ReLU's output
///   `max(0, x scale + shift)` was not positive (recomputed, not stored), and summed for
///   `dbeta = sum dy` and `dgamma = sum dy xhat`; a second pass rebuilds it to write `dx`.
///
/// Every value is computed by the same expression, in the same order, as in the separate
/// layers, so the results are identical (tested with `memcmp`, not a tolerance); the separate
/// layers stay the reference. ``Sequential`` takes this path for any batch norm followed by a
/// ReLU and a max pool unless ``Sequential/fusesNormReLUPool`` is false.
extension BatchNorm2D {
    @inline(__always)
    private static func rectified(_ v: Float, _ scale: Float, _ shift: Float) -> Float {
        let y = v * scale + shift
        return y < 0 ? 0 : y
    }

    /// `pool(relu(batchNorm(x)))` for `x` `[N, C, H, W]`; the result is `pool`'s output tensor,
    /// and `pool` keeps the maxima's positions for ``backwardNormReLUPool(_:pool:)``.
    func forwardNormReLUPool(_ x: Tensor, training: Bool, pool: MaxPool2D) -> Tensor {
        computeStatistics(x, training: training)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = pool.window, (sh, sw) = pool.stride
        precondition(h >= kh && w >= kw, "MaxPool2D(\(kh)x\(kw)) needs at least that much input, got \(h)x\(w)")
        let ho = (h - kh) / sh + 1, wo = (w - kw) / sw + 1
        pool.inputShape = x.shape
        pool.output.resize([n, c, ho, wo])
        if pool.argmax.count < pool.output.count { pool.argmax = [Int32](repeating: 0, count: pool.output.count) }
        let source = x.data, y = pool.output.data
        pool.argmax.withUnsafeMutableBufferPointer { arg in
            let indices = arg.baseAddress!
            Compute.parallel(c, workers: threads) { _, channelRange in
                // The kh input rows under one row of windows, normalised and rectified first (a
                // loop that vectorises), then scanned as MaxPool2D.forward scans its input (with
                // the normalisation inside the scan, the compiler branched on every compare: 5x slower).
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: kh * w)
                defer { rows.deallocate() }
                for channel in channelRange {
                    let (scale, shift) = affine(channel)
                    for s in 0..<n {
                        let p = s * c + channel, plane = source + p * h * w
                        for oh in 0..<ho {
                            let top = plane + oh * sh * w
                            for i in 0..<(kh * w) { rows[i] = Self.rectified(top[i], scale, shift) }
                            let row = y + p * ho * wo + oh * wo, at = indices + p * ho * wo + oh * wo
                            for ow in 0..<wo {
                                let (best, index) = MaxPool2D.scan(rows, start: ow * sw, rowStride: w, pool.window)
                                row[ow] = best
                                at[ow] = Int32(truncatingIfNeeded: oh * sh * w + index)
                            }
                        }
                    }
                }
            }
        }
        return pool.output
    }

    /// The gradient with respect to `x` of the last ``forwardNormReLUPool(_:training:pool:)``,
    /// from the gradient of its pooled output; adds into `gamma` and `beta`'s gradients.
    func backwardNormReLUPool(_ dy: Tensor, pool: MaxPool2D) -> Tensor {
        guard let x = input else { preconditionFailure("BatchNorm2D.backward before forward") }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let plane = h * w, planeOut = dy.shape[2] * dy.shape[3]
        inputGradient.resize(x.shape)
        let source = x.data, g = dy.data
        pool.argmax.withUnsafeBufferPointer { arg in
            let indices = arg.baseAddress!
            Compute.parallel(channels, workers: threads) { _, channelRange in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: plane)
                defer { scratch.deallocate() }
                for c in channelRange {
                    let (scale, shift) = affine(c)
                    // The gradient reaching batch norm's output on plane (s, c): MaxPool2D.backward
                    // then ReLU.backward, into scratch; batch norm's own sums and dx follow.
                    backwardChannel(c, x: x, samples: n, plane: plane) { s in
                        let p = source + (s * channels + c) * plane
                        scratch.update(repeating: 0, count: plane)
                        let gp = g + (s * channels + c) * planeOut, a = indices + (s * channels + c) * planeOut
                        for i in 0..<planeOut { scratch[Int(a[i])] += gp[i] }
                        for i in 0..<plane {
                            scratch[i] = scratch[i] * (Self.rectified(p[i], scale, shift) > 0 ? 1 : 0)
                        }
                        return UnsafePointer(scratch)
                    }
                }
            }
        }
        return inputGradient
    }
}
