import Foundation
import MoodCore
@testable import MoodTensor
@testable import MoodTraining
import Testing

func fixture(_ name: String) throws -> String {
    guard let path = Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures") else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }
    return path
}

/// MoodCNN, one Adam and one AdamW step, and the one-cycle schedule against PyTorch 2.x,
/// on values written once by Tests/Scripts/torch_reference.py. Tolerances are relative to
/// each tensor's largest magnitude: 1e-4 for outputs, 2e-3 for gradients (Float32 sums in
/// a different order), 1e-5 for optimiser steps, 1e-9 for the schedule (Double).
@Suite struct TorchAgreementTests {
    let reference: [String: Safetensors.Entry]
    let model: MoodCNN

    init() throws {
        reference = try Safetensors.read(try fixture("torch-moodcnn.safetensors")).tensors
        model = MoodCNN(classes: 4, channels: [4, 8, 8, 8], dropout: 0, seed: 1)
        try Checkpoint.loadModel(model.network, from: reference, prefix: "weights.", path: "torch-moodcnn.safetensors")
        model.network.setThreads(2)
    }

    func relativeError(_ ours: [Float], _ theirs: [Float]) -> Float {
        let scale = max(theirs.map(abs).max() ?? 0, 1e-12)
        return zip(ours, theirs).map { abs($0 - $1) }.max()! / scale
    }

    func forwardBackward() -> Float {
        let input = reference["input"]!
        let x = Tensor(shape: input.shape, values: input.floats)
        let logits = model.network.forward(x, training: true)
        let gradient = Tensor(shape: [0])
        let loss = SoftmaxCrossEntropy.loss(
            logits, targets: reference["targets"]!.floats.map { Int($0) }, gradient: gradient)
        for p in model.parameters { p.gradient.zero() }
        _ = model.network.backward(gradient)
        #expect(relativeError(logits.values, reference["logits"]!.floats) < 1e-4)
        return loss
    }

    @Test func forwardLossAndEveryGradient() {
        let loss = forwardBackward()
        #expect(abs(loss - reference["loss"]!.floats[0]) < 1e-5)
        #expect(model.parameters.count == 14)
        for p in model.parameters {
            let theirs = reference["grad." + p.name]!
            #expect(theirs.shape == p.gradient.shape)
            #expect(relativeError(p.gradient.values, theirs.floats) < 2e-3, "gradient of \(p.name)")
        }
        for b in model.network.buffers {
            #expect(
                relativeError(b.tensor.values, reference["after." + b.name]!.floats) < 1e-5, "\(b.name) after the step")
        }
    }

    /// Two steps from PyTorch's own gradients, so that only the optimiser is compared.
    @Test(arguments: ["adam", "adamw"])
    func twoOptimiserSteps(kind: String) {
        // PyTorch decays every parameter here; the reference script did not exclude biases or batch norm.
        let all = model.parameters.map { p in
            let copy = Parameter(name: p.name, shape: p.value.shape, decays: true)
            copy.value.copy(from: p.value)
            copy.gradient.copy(from: reference["grad." + p.name]!.floats)
            return copy
        }
        let optimiser = Adam(
            [ParameterGroup(all)], beta2: 0.99, epsilon: 1e-5, weightDecay: 0.01, decoupled: kind == "adamw")
        optimiser.step(learningRate: 1e-3, momentum: 0.9)
        optimiser.step(learningRate: 1e-3, momentum: 0.9)
        for p in all {
            let theirs = reference["\(kind).\(p.name)"]!.floats
            let worst = zip(p.value.values, theirs).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "\(kind) \(p.name): largest difference \(worst)")
        }
    }

    @Test func oneCycleScheduleMatchesOneCycleLR() throws {
        let schedule = try Safetensors.read(try fixture("torch-onecycle.safetensors")).tensors
        guard case .f64(let rates)? = schedule["lr"]?.values, case .f64(let momenta)? = schedule["momentum"]?.values
        else {
            Issue.record("reference schedule missing"); return
        }
        let ours = OneCycleSchedule(maxLR: 1e-2, totalSteps: 100)
        for step in 0..<100 {
            let v = ours.values(at: step)
            #expect(
                abs(v.learningRate - rates[step]) <= 1e-9 * 1e-2,
                "lr at step \(step): \(v.learningRate) vs \(rates[step])")
            #expect(abs(v.momentum - momenta[step]) <= 1e-9, "momentum at step \(step)")
        }
    }
}
