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

/// Per-parameter optimiser state, allocated on the first step and updated in place after.
final class Moments {
    var first: [Float]
    var second: [Float]
    var steps = 0
    init(count: Int, second: Bool) {
        first = [Float](repeating: 0, count: count)
        self.second = second ? [Float](repeating: 0, count: count) : []
    }
}

/// SGD with momentum: `v = mu v + g (+ wd p)`, `p -= lr v`.
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public let weightDecay: Float
    private var velocity: [String: Moments] = [:]

    public init(_ groups: [ParameterGroup], weightDecay: Float = 0) {
        self.groups = groups
        self.weightDecay = weightDecay
    }

    public func step(learningRate: Float, momentum: Float) {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for p in group.parameters where !p.frozen {
                let state = velocity[p.name] ?? Moments(count: p.value.count, second: false)
                velocity[p.name] = state
                let wd = p.decays ? weightDecay : 0
                let value = p.value.data, gradient = p.gradient.data
                state.first.withUnsafeMutableBufferPointer { v in
                    for i in 0..<v.count {
                        v[i] = momentum * v[i] + gradient[i] + wd * value[i]
                        value[i] -= lr * v[i]
                    }
                }
            }
        }
    }

    public var state: [String: [Float]] {
        get { velocity.reduce(into: [:]) { $0["velocity." + $1.key] = $1.value.first } }
        set {
            velocity = [:]
            for (key, values) in newValue where key.hasPrefix("velocity.") {
                let m = Moments(count: values.count, second: false)
                m.first = values
                velocity[String(key.dropFirst(9))] = m
            }
        }
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
    private var moments: [String: Moments] = [:]

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
                let state = moments[p.name] ?? Moments(count: p.value.count, second: true)
                moments[p.name] = state
                state.steps += 1
                let t = state.steps
                let wd = p.decays ? weightDecay : 0
                let correction1 = 1 - Float(pow(Double(beta1), Double(t)))
                let correction2 = 1 - Float(pow(Double(beta2), Double(t)))
                let stepSize = lr / correction1, rootCorrection2 = correction2.squareRoot()
                let value = p.value.data, gradient = p.gradient.data
                let decoupled = self.decoupled, beta2 = self.beta2, epsilon = self.epsilon
                state.first.withUnsafeMutableBufferPointer { m in
                    state.second.withUnsafeMutableBufferPointer { v in
                        for i in 0..<m.count {
                            var g = gradient[i]
                            if decoupled { value[i] *= 1 - lr * wd } else { g += wd * value[i] }
                            m[i] = beta1 * m[i] + (1 - beta1) * g
                            v[i] = beta2 * v[i] + (1 - beta2) * g * g
                            value[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + epsilon)
                        }
                    }
                }
            }
        }
    }

    public var state: [String: [Float]] {
        get {
            var all = [String: [Float]]()
            for (k, m) in moments {
                all["exp_avg." + k] = m.first
                all["exp_avg_sq." + k] = m.second
                all["step." + k] = [Float(m.steps)]
            }
            return all
        }
        set {
            moments = [:]
            for (key, values) in newValue where key.hasPrefix("exp_avg.") {
                let name = String(key.dropFirst(8))
                let m = Moments(count: values.count, second: true)
                m.first = values
                m.second = newValue["exp_avg_sq." + name] ?? m.second
                m.steps = Int(newValue["step." + name]?.first ?? 0)
                moments[name] = m
            }
        }
    }
}
