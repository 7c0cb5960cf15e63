import Foundation
import MoodCore
import MoodTensor

/// One epoch's numbers, in fastai's table layout.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Float
    public var validLoss: Float
    /// Accuracy (single label) or accuracy_multi at 0.5 (multi-label).
    public var metric: Float
    public var seconds: Double
}

/// Training stopped because the loss stopped being a number.
public struct TrainingDiverged: Error, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let loss: Float
    public var description: String {
        "training diverged: the loss became \(loss) at epoch \(epoch), batch \(batch) (check the inputs for NaN or infinity, or lower the learning rate)"
    }
}

/// A sample whose input holds NaN or infinity: named before it can poison the weights.
public struct NonFiniteInput: Error, CustomStringConvertible {
    public let sample: Int
    public let position: Int
    public let value: Float
    public var description: String {
        "training data: sample \(sample) holds \(value) at position \(position) (inputs must be finite numbers)"
    }
}

/// What a callback hears.
public enum TrainingEvent {
    case batch(epoch: Int, batch: Int, loss: Float, learningRate: Float)
    case epoch(EpochRecord)
}

/// Trains a network on `TrainingData` as fastai's `Learner` does: one-cycle fitting,
/// discriminative learning rates, freezing, a learning-rate finder, checkpoints that
/// resume exactly. All randomness comes from `seed`; the thread count is explicit too, and
/// with the seed fixes every bit of the result.
public final class Learner {
    public let network: Sequential
    public let train: TrainingData
    public let valid: TrainingData
    public let batchSize: Int
    public var optimizer: Optimizer
    public var generator: SeededGenerator
    public private(set) var history: [EpochRecord] = []
    public var callbacks: [(TrainingEvent) -> Void] = []
    public var showProgress = true
    /// Whether training batches are augmented (the data decides how).
    public var augment = false
    /// Per-tag weights of the positive class in the multi-label loss (rare tags weigh more); nil: 1.
    public var positiveWeights: [Float]?
    /// Polled after every epoch; true ends the run there (its checkpoint lets a rerun resume).
    public var shouldStop: () -> Bool = { Interrupt.requested }

    private let batch = Tensor(shape: [0])
    private let logitsGradient = Tensor(shape: [0])

    /// `threads` worker threads are given to every layer of `network` (see `Layer.setThreads(_:)`).
    public init(
        network: Sequential, train: TrainingData, valid: TrainingData, batchSize: Int = 32,
        optimizer: Optimizer? = nil, seed: UInt64, threads: Int = 1
    ) {
        precondition(train.sampleShape == valid.sampleShape, "training and validation samples differ in shape")
        self.network = network
        network.setThreads(threads)
        self.train = train
        self.valid = valid
        self.batchSize = batchSize
        self.optimizer = optimizer ?? Adam.adamW([ParameterGroup(network.parameters)])
        generator = SeededGenerator(seed: seed)
    }

    // MARK: - Fitting

    /// `fit_one_cycle`: `epochs` epochs under a one-cycle schedule peaking at `maxLR`
    /// (scaled per parameter group). With `checkpoint`, the state is saved after every
    /// epoch and a run that finds a checkpoint of the same schedule resumes after it.
    @discardableResult
    public func fitOneCycle(epochs: Int, maxLR: Double, checkpoint: URL? = nil) throws -> [EpochRecord] {
        guard train.count > 0 else { throw InputError("training data", "no training samples") }
        guard valid.count > 0 else { throw InputError("validation data", "no validation samples") }
        let batches = (train.count + batchSize - 1) / batchSize
        let schedule = OneCycleSchedule(maxLR: maxLR, totalSteps: epochs * batches)
        // A checkpoint resumes bit for bit only on the backend that wrote it; another one starts over.
        let scheduleKey =
            "onecycle maxLR=\(maxLR) epochs=\(epochs) batches=\(batches) start=\(history.count)"
            + (network.oneDNNTrainingBackend.map { " backend=\($0.rawValue)" } ?? "")
        var firstEpoch = 0
        let startHistory = history
        if let checkpoint, FileManager.default.fileExists(atPath: checkpoint.path) {
            let done = try resume(from: checkpoint, scheduleKey: scheduleKey)
            firstEpoch = done
        }
        for epoch in firstEpoch..<epochs {
            let record = try runEpoch(epoch, displayEpoch: startHistory.count + epoch, batches: batches) { step in
                let v = schedule.values(at: epoch * batches + step)
                return (Float(v.learningRate), Float(v.momentum))
            }
            history.append(record)
            callbacks.forEach { $0(.epoch(record)) }
            if let checkpoint { try save(to: checkpoint, scheduleKey: scheduleKey, epochsDone: epoch + 1) }
            if shouldStop() { throw CancellationError() }
        }
        return Array(history[startHistory.count...])
    }

    /// Keras-style `fit`: `epochs` epochs at a constant learning rate and momentum (beta1).
    /// With `validate: false` the per-epoch validation pass is skipped (its loss and metric read NaN).
    @discardableResult
    public func fit(epochs: Int, learningRate: Float, momentum: Float = 0.9, validate: Bool = true) throws
        -> [EpochRecord]
    {
        guard train.count > 0 else { throw InputError("training data", "no training samples") }
        let batches = (train.count + batchSize - 1) / batchSize
        let start = history.count
        for epoch in 0..<epochs {
            let record = try runEpoch(epoch, displayEpoch: start + epoch, batches: batches, validate: validate) { _ in
                (learningRate, momentum)
            }
            history.append(record)
            callbacks.forEach { $0(.epoch(record)) }
        }
        return Array(history[start...])
    }

    /// One pass over the training data in a freshly shuffled order, then validation.
    func runEpoch(_ epoch: Int, displayEpoch: Int, batches: Int, validate: Bool = true, rates: (Int) -> (Float, Float))
        throws -> EpochRecord
    {
        let start = Date()
        var order = Array(0..<train.count)
        order.shuffle(using: &generator)
        let bar = ProgressBar("epoch \(displayEpoch)", total: batches, enabled: showProgress)
        var totalLoss = 0.0, seen = 0
        for b in 0..<batches {
            let indices = Array(order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)])
            let (lr, momentum) = rates(b)
            let loss = try trainStep(indices, learningRate: lr, momentum: momentum)
            guard loss.isFinite else { bar.finish(); throw TrainingDiverged(epoch: displayEpoch, batch: b, loss: loss) }
            totalLoss += Double(loss) * Double(indices.count)
            seen += indices.count
            callbacks.forEach { $0(.batch(epoch: displayEpoch, batch: b, loss: loss, learningRate: lr)) }
            bar.advance()
        }
        bar.finish()
        let (validLoss, metric) = validate ? evaluate(valid) : (Float.nan, Float.nan)
        return EpochRecord(
            epoch: displayEpoch, trainLoss: Float(totalLoss / Double(max(seen, 1))), validLoss: validLoss,
            metric: metric, seconds: Date().timeIntervalSince(start))
    }

    /// Forward, loss, backward and one optimiser step on the samples `indices`; returns the loss.
    @discardableResult
    public func trainStep(_ indices: [Int], learningRate: Float, momentum: Float) throws -> Float {
        fill(batch, from: train, indices: indices, augment: augment)
        if let bad = batch.firstNonFinite {
            let size = train.sampleShape.reduce(1, *)
            throw NonFiniteInput(sample: indices[bad / size], position: bad % size, value: batch[bad])
        }
        let logits = network.forward(batch, training: true)
        let loss = lossAndGradient(logits, data: train, indices: indices, gradient: logitsGradient)
        guard loss.isFinite else { return loss }
        optimizer.zeroGradients()
        _ = network.backward(logitsGradient)
        optimizer.step(learningRate: learningRate, momentum: momentum)
        return loss
    }

    func fill(_ tensor: Tensor, from data: TrainingData, indices: [Int], augment: Bool) {
        let size = data.sampleShape.reduce(1, *)
        tensor.resize([indices.count] + data.sampleShape)
        for (row, index) in indices.enumerated() {
            data.load(index, into: tensor.data + row * size, augment: augment, generator: &generator)
        }
    }

    func lossAndGradient(_ logits: Tensor, data: TrainingData, indices: [Int], gradient: Tensor?) -> Float {
        switch data.targets {
        case .classes(let labels, _):
            return SoftmaxCrossEntropy.loss(logits, targets: indices.map { labels[$0] }, gradient: gradient)
        case .tags(let rows):
            return SigmoidBinaryCrossEntropy.loss(
                logits, targets: indices.flatMap { rows[$0] }, positiveWeights: positiveWeights, gradient: gradient)
        }
    }

    // MARK: - Evaluation

    /// Mean loss and the metric (accuracy, or accuracy_multi at 0.5) over `data`, in evaluation mode.
    public func evaluate(_ data: TrainingData) -> (loss: Float, metric: Float) {
        let outputs = predictLogits(data)
        var loss = 0.0, correct = 0.0
        let size = data.targets.outputs
        let all = Tensor(shape: [data.count, size], values: outputs.flatMap { $0 })
        loss = Double(lossAndGradient(all, data: data, indices: Array(0..<data.count), gradient: nil))
        switch data.targets {
        case .classes(let labels, _):
            for (row, label) in zip(outputs, labels) where row.indices.max(by: { row[$0] < row[$1] }) == label {
                correct += 1
            }
            return (Float(loss), Float(correct / Double(max(data.count, 1))))
        case .tags(let rows):
            for (row, truth) in zip(outputs, rows) {
                for (z, y) in zip(row, truth) where (z > 0) == (y > 0.5) { correct += 1 }  // sigmoid(z) > 0.5 iff z > 0
            }
            return (Float(loss), Float(correct / Double(max(data.count * size, 1))))
        }
    }

    /// Raw network outputs (logits) for every sample, in evaluation mode.
    public func predictLogits(_ data: TrainingData) -> [[Float]] {
        var outputs = [[Float]]()
        var start = 0
        while start < data.count {
            let indices = Array(start..<min(data.count, start + batchSize))
            fill(batch, from: data, indices: indices, augment: false)
            let logits = network.forward(batch, training: false)
            let width = logits.shape[1]
            for r in 0..<indices.count {
                outputs.append(Array(UnsafeBufferPointer(start: logits.data + r * width, count: width)))
            }
            start += batchSize
        }
        return outputs
    }

    // MARK: - Checkpoints

    public func save(to url: URL, scheduleKey: String = "", epochsDone: Int = 0) throws {
        var tensors = Checkpoint.modelTensors(network)
        for (key, values) in optimizer.state {
            tensors["optimizer." + key] = Safetensors.Entry(shape: [values.count], values: .f32(values))
        }
        tensors["rng.learner"] = Safetensors.Entry(shape: [4], values: .u64(generator.stateWords))
        for (i, layer) in Checkpoint.randomLayers(network).enumerated() {
            tensors["rng.layer\(i)"] = Safetensors.Entry(shape: [4], values: .u64(layer.generator.stateWords))
        }
        let historyJSON = String(decoding: try JSONEncoder().encode(history), as: UTF8.self)
        try Safetensors.write(
            tensors,
            metadata: [
                "format": "mooddex-checkpoint-1", "schedule": scheduleKey,
                "epochs_done": "\(epochsDone)", "history": historyJSON,
            ], to: url)
    }

    /// Restores everything `save` wrote; returns the epochs already done of `scheduleKey`'s run
    /// (0 when the checkpoint belongs to another schedule, which is then ignored).
    @discardableResult
    public func resume(from url: URL, scheduleKey: String? = nil) throws -> Int {
        let (tensors, metadata) = try Safetensors.read(url.path)
        guard metadata["format"] == "mooddex-checkpoint-1" else {
            throw InputError(url.path, "not a MoodDex checkpoint")
        }
        if let scheduleKey, metadata["schedule"] != scheduleKey { return 0 }
        try Checkpoint.loadModel(network, from: tensors, path: url.path)
        var state = [String: [Float]]()
        for (name, entry) in tensors where name.hasPrefix("optimizer.") {
            state[String(name.dropFirst(10))] = entry.floats
        }
        optimizer.state = state
        guard case .u64(let words)? = tensors["rng.learner"]?.values else {
            throw InputError(url.path, "no rng.learner state")
        }
        generator = SeededGenerator(state: words)
        for (i, layer) in Checkpoint.randomLayers(network).enumerated() {
            guard case .u64(let words)? = tensors["rng.layer\(i)"]?.values else {
                throw InputError(url.path, "no rng.layer\(i) state")
            }
            layer.generator = SeededGenerator(state: words)
        }
        history = try JSONDecoder().decode([EpochRecord].self, from: Data((metadata["history"] ?? "[]").utf8))
        return Int(metadata["epochs_done"] ?? "0") ?? 0
    }
}
