import CKernels
/// Batch norm, ReLU and max pool run as one layer, with the same bits as the three apart.
///
/// Apart, the three layers write four full-size tensors per step (batch norm's output, ReLU's,
/// and in the backward pass the pool's and ReLU's gradients) and read each of them again: in
/// MoodCNN's first block, tensors of `[32, 32, 96, 1292]` (0.5 GB each). Fused:
///
/// - forward: the batch statistics (the same pass as ``BatchNorm2D``), then one pass that
///   normalises and rectifies a row of windows' input rows into a small buffer and pools them,
///   writing only the pooled output and the positions of the maxima (in evaluation, only the
///   values, from each window's raw extreme);
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

    /// `max(0, v scale + shift)` or `max(0, v) scale + shift`, each as the separate layers compute it.
    @inline(__always)
    static func mapped(_ v: Float, _ scale: Float, _ shift: Float, _ order: NormReLUOrder) -> Float {
        switch order {
        case .normalizeFirst: return rectified(v, scale, shift)
        case .rectifyFirst: return (v < 0 ? 0 : v) * scale + shift
        }
    }

    /// `pool(relu(batchNorm(x)))` for `x` `[N, C, H, W]`; the result is `pool`'s output tensor.
    /// In training `pool` keeps the maxima's positions for ``backwardNormReLUPool(_:pool:)``;
    /// in evaluation only the values are computed (a backward pass after it finds the positions then).
    func forwardNormReLUPool(_ x: Tensor, training: Bool, pool: MaxPool2D) -> Tensor {
        computeStatistics(x, training: training)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = pool.window
        precondition(h >= kh && w >= kw, "MaxPool2D(\(kh)x\(kw)) needs at least that much input, got \(h)x\(w)")
        let ho = (h - kh) / pool.stride.h + 1, wo = (w - kw) / pool.stride.w + 1
        pool.inputShape = x.shape
        pool.output.resize([n, c, ho, wo])
        if training { scanWindows(x, pool: pool) } else { poolValues(x, pool: pool, order: .normalizeFirst) }
        return pool.output
    }

    /// Each window's first maximum of the rectified values and its position, as MaxPool2D
    /// scans its input.
    private func scanWindows(_ x: Tensor, pool: MaxPool2D) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, _) = pool.window, (sh, sw) = pool.stride
        let (ho, wo) = (pool.output.shape[2], pool.output.shape[3])
        if pool.argmax.count < pool.output.count { pool.argmax = [Int32](repeating: 0, count: pool.output.count) }
        let source = x.data, y = pool.output.data
        if pool.window.w == 4 && sw == 4 && kh <= 8 && Compute.ownKernel {
            // MoodCNN's 2 x 4 pools: the vectorised kernel (CKernels/pool4.c), the same values and positions.
            pool.argmax.withUnsafeMutableBufferPointer { arg in
                let indices = arg.baseAddress!
                Compute.parallel(c, workers: threads) { _, channelRange in
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: (kh + 1) * w)
                    defer { rows.deallocate() }
                    for channel in channelRange {
                        let (scale, shift) = affine(channel)
                        for s in 0..<n {
                            let p = s * c + channel
                            ck_norm_relu_pool4(
                                source + p * h * w, Int32(h), Int32(w), Int32(kh), Int32(sh), scale, shift,
                                y + p * ho * wo, indices + p * ho * wo, rows, rows + kh * w)
                        }
                    }
                }
            }
            return
        }
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
    }

    /// Evaluation: the windows' values alone, a third of the scan's time on MoodCNN's first block.
    ///
    /// Both orders' maps, `max(0, x scale + shift)` and `max(0, x) scale + shift`, never
    /// decrease as `x` grows when `scale >= 0`, and never increase when `scale < 0`; rounding
    /// keeps that order. So a window's largest mapped value is the mapped value of its largest
    /// `x` (smallest when `scale < 0`): the raw extreme is found down the columns and across
    /// the window (vectors, in any order: the extreme of clean numbers does not depend on it,
    /// and only zeros' signs could, which the + 0 below erases), and mapped once per output,
    /// plus +0 (the scan's poison term, which turns -0 into +0): the scan's bits. A row of
    /// windows holding a NaN or an infinity is scanned instead (the scan's NaN bits).
    func poolValues(_ x: Tensor, pool: MaxPool2D, order: NormReLUOrder) {
        // One copy of the loops per order and direction (constants into always-inlined code):
        // with the order and direction tested inside them, MoodCNN's layer 2 took 20-30 % longer.
        switch order {
        case .normalizeFirst: poolValues(x, pool: pool, constantOrder: .normalizeFirst)
        case .rectifyFirst: poolValues(x, pool: pool, constantOrder: .rectifyFirst)
        }
    }

    @inline(__always)
    private func poolValues(_ x: Tensor, pool: MaxPool2D, constantOrder order: NormReLUOrder) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = pool.window, (sh, sw) = pool.stride
        let (ho, wo) = (pool.output.shape[2], pool.output.shape[3])
        let source = x.data, y = pool.output.data
        Compute.parallel(c, workers: threads) { _, channelRange in
            let extreme = UnsafeMutablePointer<Float>.allocate(capacity: w)
            let rows = UnsafeMutablePointer<Float>.allocate(capacity: kh * w)
            defer { extreme.deallocate(); rows.deallocate() }
            @inline(__always) func poolRow(
                _ top: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>, _ scale: Float, _ shift: Float,
                smallest: Bool
            ) {
                let clean = Self.columnExtremes(
                    top, rows: kh, width: w, scale: scale, shift: shift, smallest: smallest, order: order,
                    extreme: extreme)
                if clean {
                    for ow in 0..<wo {
                        let most = Self.windowExtreme(extreme + ow * sw, count: kw, smallest: smallest)
                        // + 0: as the scan's poison, -0 -> +0
                        row[ow] = Self.mapped(most, scale, shift, order) + 0
                    }
                } else {  // a NaN or infinity in these rows: the scan itself (its NaN bits too)
                    for i in 0..<(kh * w) { rows[i] = Self.mapped(top[i], scale, shift, order) }
                    for ow in 0..<wo {
                        row[ow] = MaxPool2D.scan(rows, start: ow * sw, rowStride: w, pool.window).value
                    }
                }
            }
            for channel in channelRange {
                let (scale, shift) = affine(channel)
                for s in 0..<n {
                    let p = s * c + channel, plane = source + p * h * w
                    for oh in 0..<ho {
                        let top = plane + oh * sh * w, row = y + p * ho * wo + oh * wo
                        if scale < 0 {
                            poolRow(top, row, scale, shift, smallest: true)
                        } else {
                            poolRow(top, row, scale, shift, smallest: false)
                        }
                    }
                }
            }
        }
    }

    /// The largest of `count` clean values at `p` (smallest when `smallest`): sixteen lanes at a
    /// time where the window is that wide (musicnn pools 30-96 values), the last block
    /// overlapping the one before rather than a scalar tail.
    @inline(__always)
    private static func windowExtreme(_ p: UnsafePointer<Float>, count: Int, smallest: Bool) -> Float {
        typealias Lanes = SIMD16<Float>
        guard count >= 16 else {
            var most = p[0]
            if smallest {
                for j in 1..<max(count, 1) { most = Swift.min(most, p[j]) }
            } else {
                for j in 1..<max(count, 1) { most = Swift.max(most, p[j]) }
            }
            return most
        }
        @inline(__always) func load(_ q: UnsafePointer<Float>) -> Lanes {
            UnsafeRawPointer(q).loadUnaligned(as: Lanes.self)
        }
        var most = load(p), j = 16
        while j < count {
            let v = load(p + Swift.min(j, count - 16))
            if smallest { most.replace(with: v, where: v .< most) } else { most.replace(with: v, where: v .> most) }
            j += 16
        }
        return smallest ? most.min() : most.max()
    }

    /// Down each of `width` columns of `rows` rows at `top`: the largest raw value (smallest
    /// when `smallest`) into `extreme`, eight columns at a time with explicit vectors (scalar
    /// selects became branches the compiler did not vectorise). Returns whether every mapped
    /// value times 0 is 0 (no NaN or infinity in these rows).
    @inline(__always)
    private static func columnExtremes(
        _ top: UnsafePointer<Float>, rows: Int, width w: Int, scale: Float, shift: Float, smallest: Bool,
        order: NormReLUOrder, extreme: UnsafeMutablePointer<Float>
    ) -> Bool {
        typealias Lanes = SIMD8<Float>
        let a = Lanes(repeating: scale), b = Lanes(repeating: shift), zero = Lanes()
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes {
            UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
        }
        @inline(__always) func mappedTimesZero(_ v: Lanes) -> Lanes {
            switch order {
            case .normalizeFirst:
                var y = v * a + b
                y.replace(with: zero, where: y .< zero)
                return y * zero
            case .rectifyFirst:
                var r = v
                r.replace(with: zero, where: r .< zero)
                return (r * a + b) * zero
            }
        }
        var j = 0, all = zero
        while j + 8 <= w {
            var most = load(top + j), nan = zero + mappedTimesZero(most)
            if smallest {
                for r in 1..<max(rows, 1) {
                    let v = load(top + r * w + j)
                    most.replace(with: v, where: v .< most)
                    nan += mappedTimesZero(v)
                }
            } else {
                for r in 1..<max(rows, 1) {
                    let v = load(top + r * w + j)
                    most.replace(with: v, where: v .> most)
                    nan += mappedTimesZero(v)
                }
            }
            UnsafeMutableRawPointer(extreme + j).storeBytes(of: most, as: Lanes.self)
            all += nan
            j += 8
        }
        var clean = all.sum() == 0  // NaN, in any order, once a term is NaN
        while j < w {
            var most = top[j], nan: Float = 0
            for r in 0..<rows {
                let v = top[r * w + j]
                most = smallest ? (v < most ? v : most) : (v > most ? v : most)
                nan += mapped(v, scale, shift, order) * 0
            }
            extreme[j] = most
            clean = clean && nan == 0
            j += 1
        }
        return clean
    }

    /// The gradient with respect to `x` of the last ``forwardNormReLUPool(_:training:pool:)``,
    /// from the gradient of its pooled output; adds into `gamma` and `beta`'s gradients.
    func backwardNormReLUPool(_ dy: Tensor, pool: MaxPool2D) -> Tensor {
        guard let x = input else { preconditionFailure("BatchNorm2D.backward before forward") }
        if !trainedLast { scanWindows(x, pool: pool) }  // an evaluation forward left no positions
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
