import Foundation
import MoodCore
import MoodTensor
import MoodTraining
import Testing

/// Sixteen 1 x 8 x 16 "spectrograms": class k has a bright band at rows 2k, 2k+1, plus noise.
func stripes(count: Int, classes: Int = 4, seed: UInt64, noise: Float = 0.3) -> InMemoryData {
    var g = SeededGenerator(seed: seed)
    var samples = [[Float]](), labels = [Int]()
    for i in 0..<count {
        let label = i % classes
        samples.append((0..<(8 * 16)).map { j in (j / 16 / 2 == label ? 1 : 0) + noise * g.nextNormal() })
        labels.append(label)
    }
    return InMemoryData(samples: samples, sampleShape: [1, 8, 16], targets: .classes(labels, count: classes))
}

func tinyNetwork(seed: UInt64, classes: Int = 4, dropout: Float = 0.1) -> Sequential {
    var g = SeededGenerator(seed: seed)
    let network = Sequential([
        Conv2D(1, 8, generator: &g), BatchNorm2D(8), ReLU(), MaxPool2D(2, 2),
        Conv2D(8, 8, generator: &g), BatchNorm2D(8), ReLU(),
        GlobalAveragePool(), Dropout(dropout, generator: &g), Linear(8, classes, generator: &g),
    ])
    return network
}

func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
        "mooddex-\(getpid())-\(UInt32.random(in: 0 ... .max))-\(name)")
}

@Suite struct TrainingTests {

    @Test func tinyModelOverfitsSixteenSamples() throws {
        let data = stripes(count: 16, seed: 1)
        let learner = Learner(
            network: tinyNetwork(seed: 2, dropout: 0), train: data, valid: data, batchSize: 8, seed: 3)
        learner.showProgress = false
        let records = try learner.fitOneCycle(epochs: 40, maxLR: 3e-2)
        #expect(records.last!.trainLoss < 0.05, "final training loss \(records.last!.trainLoss)")
        #expect(records.last!.metric == 1)
        #expect(records.first!.trainLoss > 5 * records.last!.trainLoss)
    }

    func run(seed: UInt64, epochs: Int, threads: Int = 2) throws -> [Float] {
        let learner = Learner(
            network: tinyNetwork(seed: seed), train: stripes(count: 24, seed: 4), valid: stripes(count: 8, seed: 5),
            batchSize: 8, seed: seed, threads: threads)
        learner.showProgress = false
        var losses = [Float]()
        learner.callbacks.append { if case .batch(_, _, let loss, _) = $0 { losses.append(loss) } }
        try learner.fitOneCycle(epochs: epochs, maxLR: 1e-2)
        return losses + learner.history.map(\.validLoss)
    }

    @Test func aSeedRepeatsBitForBitAndAnotherSeedDiffers() throws {
        let a = try run(seed: 7, epochs: 3), b = try run(seed: 7, epochs: 3), c = try run(seed: 8, epochs: 3)
        #expect(a == b)
        #expect(a != c)
    }

    /// The thread count is each training's own: two trainings run at once with 1 and 2 threads
    /// each give exactly what they give alone (no global setting for one to change under the other).
    @Test func parallelTrainingsKeepTheirOwnThreadCounts() throws {
        let alone1 = try run(seed: 7, epochs: 2, threads: 1), alone2 = try run(seed: 7, epochs: 2, threads: 2)
        var together = [[Float]](repeating: [], count: 2)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let losses = (try? run(seed: 7, epochs: 2, threads: i + 1)) ?? []
            lock.lock(); together[i] = losses; lock.unlock()
        }
        #expect(together[0] == alone1)
        #expect(together[1] == alone2)
        #expect(!alone1.isEmpty)
    }

    /// Optimiser state belongs to the parameter object: a three-layer MLP whose two layers
    /// are both named `weight`/`bias` still trains (keyed by name, the 32-value layer once
    /// reused the 80-value layer's moments through unchecked pointers and corrupted memory).
    @Test(arguments: [false, true])
    func threeLayerMLPTrainsWhateverItsNames(clashingNames: Bool) throws {
        var g = SeededGenerator(seed: 3)
        let network = Sequential([Linear(10, 8, generator: &g), ReLU(), Linear(8, 4, generator: &g)])
        #expect(
            Set(network.parameters.map(\.name)).count == 4,
            "containers name their layers: \(network.parameters.map(\.name))")
        if clashingNames { for layer in network.layers { layer.name("") } }
        var rows = [[Float]](), labels = [Int]()
        for i in 0..<64 {
            let label = i % 4
            rows.append((0..<10).map { j in (j % 4 == label ? 1 : 0) + 0.1 * g.nextNormal() })
            labels.append(label)
        }
        let data = InMemoryData(
            samples: rows, sampleShape: [10], targets: .classes(labels, count: 4), storage: .float32)
        let learner = Learner(
            network: network, train: data, valid: data, batchSize: 16,
            optimizer: Adam([ParameterGroup(network.parameters)], weightDecay: 0, decoupled: false), seed: 1)
        learner.showProgress = false
        try learner.fit(epochs: 60, learningRate: 1e-2)
        #expect(learner.evaluate(data).metric == 1)
        // exp_avg, exp_avg_sq and step for each of the 4 parameters.
        if !clashingNames { #expect(learner.optimizer.state.count == 12) }
    }

    /// A run stopped after epoch 2 and resumed from its checkpoint ends exactly as one that never stopped.
    @Test func resumedRunEqualsUninterruptedRun() throws {
        let train = stripes(count: 24, seed: 4), valid = stripes(count: 8, seed: 5)
        func learner() -> Learner {
            let l = Learner(network: tinyNetwork(seed: 9), train: train, valid: valid, batchSize: 8, seed: 9)
            l.showProgress = false
            return l
        }
        let straight = learner()
        try straight.fitOneCycle(epochs: 5, maxLR: 1e-2)

        let checkpoint = temporaryURL("resume.safetensors")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        // Stopped (as Ctrl-C would) after epoch 2 of the same 5-epoch schedule.
        let interrupted = learner()
        interrupted.shouldStop = { interrupted.history.count == 2 }
        #expect(throws: CancellationError.self) {
            try interrupted.fitOneCycle(epochs: 5, maxLR: 1e-2, checkpoint: checkpoint)
        }
        #expect(interrupted.history.count == 2)

        let resumed = learner()
        try resumed.fitOneCycle(epochs: 5, maxLR: 1e-2, checkpoint: checkpoint)
        #expect(
            resumed.history
                == straight.history.map {
                    var r = $0; r.seconds = resumed.history[$0.epoch].seconds; return r
                })
        #expect(
            resumed.network.parameters.map { $0.value.values } == straight.network.parameters.map { $0.value.values })
    }

    @Test func aNaNInTheInputStopsTrainingWithTheEpochAndBatch() throws {
        var samples = (0..<8).map { _ in [Float](repeating: 0.5, count: 8 * 16) }
        samples[5][17] = .nan
        let data = InMemoryData(
            samples: samples, sampleShape: [1, 8, 16], targets: .classes(Array(repeating: 0, count: 8), count: 4))
        let learner = Learner(network: tinyNetwork(seed: 1), train: data, valid: data, batchSize: 8, seed: 1)
        learner.showProgress = false
        #expect {
            try learner.fitOneCycle(epochs: 2, maxLR: 1e-2)
        } throws: { error in
            "\(error)" == "training data: sample 5 holds nan at position 17 (inputs must be finite numbers)"
        }
        // Past the input check (a NaN born inside the network), the loss check names epoch and batch.
        let network = tinyNetwork(seed: 1)
        (network.layers[0] as! Conv2D).weight.value[0] = .nan
        let poisoned = Learner(
            network: network, train: stripes(count: 8, seed: 1), valid: stripes(count: 8, seed: 1), batchSize: 8,
            seed: 1)
        poisoned.showProgress = false
        #expect {
            try poisoned.fitOneCycle(epochs: 2, maxLR: 1e-2)
        } throws: { error in
            "\(error)".hasPrefix("training diverged: the loss became nan at epoch 0, batch 0")
        }
    }

    @Test func learningRateFinderRestoresTheModelAndSuggestsARate() {
        let data = stripes(count: 64, seed: 2)
        let learner = Learner(network: tinyNetwork(seed: 3), train: data, valid: data, batchSize: 16, seed: 4)
        learner.showProgress = false
        let before = learner.network.parameters.map { $0.value.values }
        let result = LearningRateFinder(steps: 100).run(learner)
        #expect(learner.network.parameters.map { $0.value.values } == before)
        #expect(result.learningRates.count >= 30)
        #expect(result.learningRates.first! < 1e-6)
        #expect(result.steepest > 1e-5 && result.steepest < 1, "steepest descent at \(result.steepest)")
        #expect(result.smoothedLosses.min()! < result.smoothedLosses.first!)
    }

    @Test func frozenParametersKeepTheirValuesAndGroupsTakeTheirOwnRates() throws {
        let data = stripes(count: 16, seed: 2)
        let network = tinyNetwork(seed: 3)
        let body = Array(network.layers[0..<7].flatMap(\.parameters)),
            head = Array(network.layers[7...].flatMap(\.parameters))
        let optimiser = SGD([ParameterGroup(body, learningRateScale: 0.01), ParameterGroup(head)])
        let learner = Learner(network: network, train: data, valid: data, batchSize: 16, optimizer: optimiser, seed: 4)
        let conv = body[0]
        conv.frozen = true
        let frozenBefore = conv.value.values, bnBefore = body[1].value.values, headBefore = head[0].value.values
        try learner.trainStep(Array(0..<16), learningRate: 0.1, momentum: 0)
        #expect(conv.value.values == frozenBefore)
        let bnMove = zip(body[1].value.values, bnBefore).map { abs($0 - $1) }.max()!
        let headMove = zip(head[0].value.values, headBefore).map { abs($0 - $1) }.max()!
        #expect(bnMove > 0 && headMove > 0)
        // Head gradient step at 0.1 vs body at 0.001: SGD without momentum moves by exactly lr x gradient.
        let g = head[0].gradient.values
        #expect(zip(zip(head[0].value.values, headBefore), g).allSatisfy { abs(($0.1 - $0.0) - 0.1 * $1) < 1e-6 })
        let gb = body[1].gradient.values
        #expect(zip(zip(body[1].value.values, bnBefore), gb).allSatisfy { abs(($0.1 - $0.0) - 0.001 * $1) < 1e-7 })
    }

    /// fastai's freeze: the body's weights stop, its batch norm and the head keep training.
    @Test func moodCNNFreezesItsBodyButNotBatchNorm() {
        let model = MoodCNN(classes: 4, channels: [4, 4, 4, 4], seed: 1)
        model.freezeBody()
        let frozen = model.bodyParameters.filter(\.frozen).map(\.name)
        #expect(frozen == ["0.weight", "4.weight", "8.weight", "12.weight"])
        #expect(model.headParameters.allSatisfy { !$0.frozen })
        model.unfreeze()
        #expect(model.parameters.allSatisfy { !$0.frozen })
        #expect(abs(MoodCNN(classes: 4, seed: 1).forwardFLOPs() / 1e9 - 1.0) < 0.01)
    }

    @Test func checkpointsAreSafetensorsAndBadOnesAreNamed() throws {
        let data = stripes(count: 8, seed: 2)
        let learner = Learner(network: tinyNetwork(seed: 3), train: data, valid: data, batchSize: 8, seed: 4)
        learner.showProgress = false
        try learner.fitOneCycle(epochs: 1, maxLR: 1e-2)
        let url = temporaryURL("ckpt.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try learner.save(to: url)
        let (tensors, metadata) = try Safetensors.read(url.path)
        #expect(tensors["model.0.weight"]?.shape == [8, 1, 3, 3])
        #expect(tensors["model.1.running_mean"]?.shape == [8])
        #expect(tensors["rng.learner"]?.shape == [4])
        #expect(metadata["format"] == "mooddex-checkpoint-1")
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 100).write(to: url)
        #expect(throws: InputError.self) { try learner.resume(from: url) }
        try Data("junk".utf8).write(to: url)
        #expect(throws: InputError.self) { try learner.resume(from: url) }
    }
}
