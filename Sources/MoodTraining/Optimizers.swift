import Foundation
import MoodCore
import MoodTensor

/// A set of parameters trained with its own learning rate (fastai's layer groups;
/// discriminative rates give the body a smaller rate than the head).
public struct ParameterGroup {
    public var parameters: [Parameter]
    /// The group's rate relative to the schedule's: 1 for the head, e.g. 0.01 for the body.
    public var learningRateScale: Float

    public init(_ parameters: [Parameter], learningRateScale: Float = 1) {
        self.parameters = parameters
        self.learningRateScale = learningRateScale
    }
}

/// What every optimiser offers the trainer: a step at a rate and momentum, gradient
/// clearing, and its state for checkpoints.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Applies one update with the schedule's `learningRate` and `momentum` (beta1 for Adam).
    func step(learningRate: Float, momentum: Float)
    /// Named state tensors (moments, step count) for checkpoints.
    var state: [String: [Float]] { get set }
}

extension Optimizer {
    public func zeroGradients() {
        for group in groups { for p in group.parameters { p.gradient.zero() } }
    }
    var allParameters: [Parameter] { groups.flatMap(\.parameters) }
}

/// SGD with momentum: `v = mu v + g (+ wd p)`, `p -= lr v`.
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public let weightDecay: Float
    private var velocity: [String: [Float]] = [:]

    public init(_ groups: [ParameterGroup], weightDecay: Float = 0) {
        self.groups = groups
        self.weightDecay = weightDecay
    }

    public func step(learningRate: Float, momentum: Float) {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for p in group.parameters where !p.frozen {
                var v = velocity[p.name] ?? [Float](repeating: 0, count: p.value.count)
                let wd = p.decays ? weightDecay : 0
                for i in 0..<p.value.count {
                    v[i] = momentum * v[i] + p.gradient.data[i] + wd * p.value.data[i]
                    p.value.data[i] -= lr * v[i]
                }
                velocity[p.name] = v
            }
        }
    }

    public var state: [String: [Float]] {
        get { velocity.reduce(into: [:]) { $0["velocity." + $1.key] = $1.value } }
        set { velocity = newValue.reduce(into: [:]) { if $1.key.hasPrefix("velocity.") { $0[String($1.key.dropFirst(9))] = $1.value } } }
    }
}

/// Adam (Kingma & Ba) with optional L2 weight decay, or AdamW's decoupled decay
/// (Loshchilov & Hutter), as PyTorch's `Adam` and `AdamW` define them:
/// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`;
/// L2: `g += wd p` first; decoupled: `p *= 1 - lr wd` first.
/// Parameters marked `decays = false` (biases, batch-norm) get no decay in either form.
public final class Adam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupled: Bool
    private var first: [String: [Float]] = [:]
    private var second: [String: [Float]] = [:]
    private var steps: [String: Int] = [:]

    public init(_ groups: [ParameterGroup], beta2: Float = 0.99, epsilon: Float = 1e-5,
                weightDecay: Float = 0.01, decoupled: Bool = true) {
        self.groups = groups
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    /// PyTorch's `AdamW` (decoupled weight decay; fastai's default optimiser is the same rule).
    public static func adamW(_ groups: [ParameterGroup], beta2: Float = 0.99, epsilon: Float = 1e-5, weightDecay: Float = 0.01) -> Adam {
        Adam(groups, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: true)
    }

    public func step(learningRate: Float, momentum beta1: Float) {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for p in group.parameters where !p.frozen {
                let n = p.value.count
                var m = first[p.name] ?? [Float](repeating: 0, count: n)
                var v = second[p.name] ?? [Float](repeating: 0, count: n)
                let t = (steps[p.name] ?? 0) + 1
                steps[p.name] = t
                let wd = p.decays ? weightDecay : 0
                let correction1 = 1 - Float(pow(Double(beta1), Double(t)))
                let correction2 = 1 - Float(pow(Double(beta2), Double(t)))
                let stepSize = lr / correction1, rootCorrection2 = correction2.squareRoot()
                for i in 0..<n {
                    var g = p.gradient.data[i]
                    if decoupled { p.value.data[i] *= 1 - lr * wd } else { g += wd * p.value.data[i] }
                    m[i] = beta1 * m[i] + (1 - beta1) * g
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    p.value.data[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + epsilon)
                }
                first[p.name] = m
                second[p.name] = v
            }
        }
    }

    public var state: [String: [Float]] {
        get {
            var all = [String: [Float]]()
            for (k, v) in first { all["exp_avg." + k] = v }
            for (k, v) in second { all["exp_avg_sq." + k] = v }
            for (k, v) in steps { all["step." + k] = [Float(v)] }
            return all
        }
        set {
            first = [:]; second = [:]; steps = [:]
            for (k, v) in newValue {
                if k.hasPrefix("exp_avg_sq.") { second[String(k.dropFirst(11))] = v }
                else if k.hasPrefix("exp_avg.") { first[String(k.dropFirst(8))] = v }
                else if k.hasPrefix("step.") { steps[String(k.dropFirst(5))] = Int(v[0]) }
            }
        }
    }
}
