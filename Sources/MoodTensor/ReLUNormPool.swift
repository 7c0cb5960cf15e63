/// The order of batch norm and ReLU in front of a max pool: MoodCNN normalises and then
/// rectifies; musicnn (TensorFlow's `conv → relu → batch_normalization → max_pooling2d`)
/// rectifies and then normalises.
enum NormReLUOrder {
    /// `max(0, x scale + shift)` (``BatchNorm2D/forwardNormReLUPool(_:training:pool:)``).
    case normalizeFirst
    /// `max(0, x) scale + shift` (``BatchNorm2D/forwardReLUNormPool(_:pool:)``).
    case rectifyFirst
}

/// musicnn's ReLU, batch norm and max pool in evaluation as one pass, with the same bits as
/// the three apart.
///
/// Apart, at batch 32, MSD_musicnn's 7 x 38 timbral branch writes its ReLU output and its batch
/// norm output (`[32, 204, 187, 59]`, 0.29 GB each) and reads each back, to keep one value in
/// 59; ReLU and batch norm took a fifth of an inference pass. Fused, each pooled row's raw
/// extreme is found in the convolution's output and mapped once (``BatchNorm2D/poolValues(_:pool:order:)``:
/// the map is monotone, so the extreme of the mapped values is the map of the raw extreme).
/// ``Sequential`` takes this path in evaluation for any ReLU followed by a batch norm and a
/// max pool unless ``Sequential/fusesNormReLUPool`` is false; a backward pass after it runs
/// the three layers again apart first (evaluation keeps nothing to differentiate).
extension BatchNorm2D {
    /// `pool(self(relu(x)))` in evaluation for `x` `[N, C, H, W]`; the result is `pool`'s output.
    func forwardReLUNormPool(_ x: Tensor, pool: MaxPool2D) -> Tensor {
        precondition(
            x.shape.count == 4 && x.shape[1] == channels, "BatchNorm2D expects [N, \(channels), H, W], got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = pool.window
        precondition(h >= kh && w >= kw, "MaxPool2D(\(kh)x\(kw)) needs at least that much input, got \(h)x\(w)")
        let ho = (h - kh) / pool.stride.h + 1, wo = (w - kw) / pool.stride.w + 1
        useRunningStatistics()
        pool.inputShape = x.shape
        pool.output.resize([n, c, ho, wo])
        poolValues(x, pool: pool, order: .rectifyFirst)
        return pool.output
    }
}
