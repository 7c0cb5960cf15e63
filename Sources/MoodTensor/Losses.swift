import Foundation

/// Softmax cross-entropy for single-label classification (PyTorch's `cross_entropy`).
///
/// `logits [N, C]`, `targets` class indices: `loss = -(1/N) sum_n log softmax(z_n)[t_n]`,
/// computed as `logsumexp(z_n) - z_n[t_n]` with the maximum subtracted first;
/// gradient `(softmax(z_n) - onehot(t_n)) / N`.
public enum SoftmaxCrossEntropy {
    public static func loss(_ logits: Tensor, targets: [Int], gradient: Tensor? = nil) -> Float {
        let (n, c) = (logits.shape[0], logits.shape[1])
        precondition(targets.count == n, "\(targets.count) targets for \(n) rows")
        precondition(targets.allSatisfy { $0 >= 0 && $0 < c }, "targets must lie in 0..<\(c)")
        gradient?.resize(logits.shape)
        let z = logits.data, g = gradient?.data
        var total = 0.0
        var exps = [Float](repeating: 0, count: c)
        for s in 0..<n {
            let row = z + s * c
            var peak = -Float.infinity
            for j in 0..<c { peak = max(peak, row[j]) }
            var sum: Float = 0
            for j in 0..<c { exps[j] = exp(row[j] - peak); sum += exps[j] }
            total += Double(peak + log(sum) - row[targets[s]])
            if let g {
                let scale = 1 / (sum * Float(n)), out = g + s * c
                for j in 0..<c { out[j] = exps[j] * scale }
                out[targets[s]] -= 1 / Float(n)
            }
        }
        return Float(total / Double(n))
    }

    /// Softmax probabilities, row by row.
    public static func probabilities(_ logits: Tensor) -> [[Float]] {
        let (n, c) = (logits.shape[0], logits.shape[1])
        return (0..<n).map { s in
            let z = Array(UnsafeBufferPointer(start: logits.data + s * c, count: c))
            let peak = z.max()!
            let e = z.map { exp($0 - peak) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        }
    }
}

/// Sigmoid binary cross-entropy on logits, for multi-label tagging
/// (PyTorch's `binary_cross_entropy_with_logits`, mean reduction).
///
/// Per element, with positive weight `w` (1 unless given per tag):
/// `l = -[w y log sigma(z) + (1 - y) log(1 - sigma(z))]`
/// `  = (1 - y) z + (1 + (w - 1) y) (log(1 + e^{-|z|}) + max(-z, 0))` (stable form);
/// `dl/dz = sigma(z) (1 - y + w y) - w y`. The loss is the mean over all N T elements.
public enum SigmoidBinaryCrossEntropy {
    public static func loss(
        _ logits: Tensor, targets: [Float], positiveWeights: [Float]? = nil, gradient: Tensor? = nil
    ) -> Float {
        let (n, t) = (logits.shape[0], logits.shape[1])
        precondition(targets.count == n * t, "\(targets.count) targets for \(n) x \(t) logits")
        if let positiveWeights { precondition(positiveWeights.count == t, "one positive weight per tag") }
        gradient?.resize(logits.shape)
        let scale = 1 / Float(n * t)
        var total = 0.0
        for i in 0..<(n * t) {
            let z = logits.data[i], y = targets[i], w = positiveWeights?[i % t] ?? 1
            let softplus = log1p(exp(-abs(z))) + max(-z, 0)
            total += Double((1 - y) * z + (1 + (w - 1) * y) * softplus)
            if let gradient {
                let sigma = 1 / (1 + exp(-z))
                gradient.data[i] = (sigma * (1 - y + w * y) - w * y) * scale
            }
        }
        return Float(total / Double(n * t))
    }
}
