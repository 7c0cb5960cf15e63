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

/// Optimiser state keyed by the parameter *object*, never by its name: two layers that
/// share a name (an unnamed `Linear` beside another) still get separate moments. Names
/// are used only to save and restore the state, where they must be unique.
struct ParameterState {
    private var moments: [ObjectIdentifier: Moments] = [:]

    /// The parameter's moments, made on first use; a size change is a programming error.
    mutating func moments(for p: Parameter, second: Bool) -> Moments {
        if let m = moments[ObjectIdentifier(p)] {
            precondition(
                m.first.count == p.value.count,
                "optimiser state of \(p.name) holds \(m.first.count) values, the parameter \(p.value.count)")
            return m
        }
        let m = Moments(count: p.value.count, second: second)
        moments[ObjectIdentifier(p)] = m
        return m
    }

    /// The moments by parameter name, for checkpoints.
    func named(_ parameters: [Parameter]) -> [(name: String, moments: Moments)] {
        parameters.compactMap { p in moments[ObjectIdentifier(p)].map { (p.name, $0) } }
    }

    /// Restores moments saved by name; each must fit its parameter.
    mutating func restore(_ saved: [String: Moments], into parameters: [Parameter]) {
        moments = [:]
        for p in parameters {
            guard let m = saved[p.name] else { continue }
            precondition(
                m.first.count == p.value.count,
                "saved optimiser state of \(p.name) holds \(m.first.count) values, the parameter \(p.value.count)")
            moments[ObjectIdentifier(p)] = m
        }
    }
}

/// The names of `parameters`, checked to be unique (checkpoints store state by name).
func uniqueNames(_ parameters: [Parameter]) -> [String] {
    var seen = Set<String>()
    for p in parameters where !seen.insert(p.name).inserted {
        preconditionFailure("two parameters are named \(p.name): give each layer a distinct name before checkpointing")
    }
    return parameters.map(\.name)
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
    private var velocity = ParameterState()

    public init(_ groups: [ParameterGroup], weightDecay: Float = 0) {
        self.groups = groups
        self.weightDecay = weightDecay
    }

    public func step(learningRate: Float, momentum: Float) {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for p in group.parameters where !p.frozen {
                let state = velocity.moments(for: p, second: false)
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
        get {
            _ = uniqueNames(allParameters)
            return velocity.named(allParameters).reduce(into: [:]) { $0["velocity." + $1.name] = $1.moments.first }
        }
        set {
            var saved = [String: Moments]()
            for (key, values) in newValue where key.hasPrefix("velocity.") {
                let m = Moments(count: values.count, second: false)
                m.first = values
                saved[String(key.dropFirst(9))] = m
            }
            velocity.restore(saved, into: allParameters)
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
    private var moments = ParameterState()

    public init(
        _ groups: [ParameterGroup], beta2: Float = 0.99, epsilon: Float = 1e-5,
        weightDecay: Float = 0.01, decoupled: Bool = true
    ) {
        self.groups = groups
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    /// PyTorch's `AdamW` (decoupled weight decay; fastai's default optimiser is the same rule).
    public static func adamW(
        _ groups: [ParameterGroup], beta2: Float = 0.99, epsilon: Float = 1e-5, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(groups, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: true)
    }

    public func step(learningRate: Float, momentum beta1: Float) {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            for p in group.parameters where !p.frozen {
                let state = moments.moments(for: p, second: true)
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
            _ = uniqueNames(allParameters)
            var all = [String: [Float]]()
            for (k, m) in moments.named(allParameters) {
                all["exp_avg." + k] = m.first
                all["exp_avg_sq." + k] = m.second
                all["step." + k] = [Float(m.steps)]
            }
            return all
        }
        set {
            var saved = [String: Moments]()
            for (key, values) in newValue where key.hasPrefix("exp_avg.") {
                let name = String(key.dropFirst(8))
                let m = Moments(count: values.count, second: true)
                m.first = values
                m.second = newValue["exp_avg_sq." + name] ?? m.second
                m.steps = Int(newValue["step." + name]?.first ?? 0)
                saved[name] = m
            }
            moments.restore(saved, into: allParameters)
        }
    }
}
