import CKernels

/// MoodCNN's first block in evaluation as one pass: a 3 x 3 convolution of the one-channel
/// spectrogram, batch norm, ReLU and max pool (`ck_first_block_eval`, Sources/CKernels).
///
/// Apart, the convolution writes `[N, 32, 96, 1292]` (0.5 GB at batch 32) and the fused batch
/// norm + ReLU + max pool reads it back: about a third of an inference pass. Fused, each row
/// of windows is convolved into a small buffer and pooled at once. The bits are the separate
/// layers' on the reference path (the convolution's fma chain is ck_sgemm's; tested with
/// `memcmp`), so ``Sequential`` takes this path in evaluation whenever the four layers follow
/// each other on an fp32 inference backend (`.reference` or `.oneDNN`; `.oneDNNBF16` keeps its
/// bf16 convolution), unless ``Sequential/fusesNormReLUPool`` is false. A backward pass after
/// it runs the block again apart on the reference path first (evaluation keeps nothing to
/// differentiate).
extension Conv2D {
    /// A one-channel 3 x 3 convolution with padding 1, stride 1 and no bias, evaluated in fp32,
    /// on a CPU with the AVX2/FMA kernel (whose bits the fused pass reproduces).
    var fusesAsFirstBlock: Bool {
        inChannels == 1 && kernel == (3, 3) && stride == (1, 1) && padding == (1, 1) && bias == nil
            && inferenceBackend != .oneDNNBF16 && Compute.ownKernel
    }
}

extension BatchNorm2D {
    /// `pool(relu(self(conv(x))))` in evaluation for `x` `[N, 1, H, W]`; the result is `pool`'s output.
    func forwardFirstBlock(_ x: Tensor, conv: Conv2D, pool: MaxPool2D) -> Tensor {
        precondition(conv.fusesAsFirstBlock && conv.outChannels == channels, "not a fusable first block")
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (kh, kw) = pool.window, (sh, sw) = pool.stride
        precondition(h >= kh && w >= kw, "MaxPool2D(\(kh)x\(kw)) needs at least that much input, got \(h)x\(w)")
        let ho = (h - kh) / sh + 1, wo = (w - kw) / sw + 1
        useRunningStatistics()
        let affine = (0..<channels).map { self.affine($0) }
        let scale = affine.map(\.scale), shift = affine.map(\.shift)
        pool.inputShape = [n, channels, h, w]
        pool.output.resize([n, channels, ho, wo])
        // Samples split over the workers; channels too when there are fewer samples than workers.
        let chunks = n >= threads ? 1 : threads, c = channels
        let y = pool.output.data, weights = conv.weight.value.data
        Compute.parallel(n * chunks, workers: threads) { _, items in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (h + 2) * (w + 2) + (kh + 1) * w)
            defer { scratch.deallocate() }
            for item in items {
                let s = item / chunks, part = item % chunks
                let c0 = c * part / chunks, c1 = c * (part + 1) / chunks
                guard c1 > c0 else { continue }
                ck_first_block_eval(
                    x.data + s * h * w, Int32(h), Int32(w), weights, scale, shift, Int32(c0), Int32(c1), Int32(kh),
                    Int32(kw), Int32(sh), Int32(sw), y + (s * c + c0) * ho * wo, scratch)
            }
        }
        return pool.output
    }
}
