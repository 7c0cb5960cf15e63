import ArgumentParser
import Foundation
import MoodCore
import MoodDatasets
import MoodNotebook
import MoodTensor
import MoodTraining

/// `mooddex bench mlp`: one 300-epoch fit of the 10 -> 8 -> 4 Keras MLP on the 686-row
/// Spotify file (Keras/TensorFlow 19.5 s, scikit-learn 0.30 s, PyTorch 0.42 s measured here).
struct MLPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp", abstract: "One 300-epoch fit of the 10-8-4 feature MLP on the 686-row Spotify file.")

    /// What to time; `bench report` passes its own.
    struct Settings {
        var repeats = 10
        var peers = true
    }

    @Option(help: "Timed fits (the median is reported).") var repeats = Settings().repeats
    @Flag(help: "Skip the Python peers.") var noPeers = false
    @Option(help: "Also write the results to this JSON file.") var json: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        let record = try Self.measure(Settings(repeats: repeats, peers: !noPeers), data: data)
        if let json { try record.write(to: URL(fileURLWithPath: json)) }
    }

    /// Times ours and the peers, printing each figure as it comes.
    static func measure(_ settings: Settings, data: DataOptions) throws -> MLPBenchRecord {
        let repeats = settings.repeats
        let path = data.root.appendingPathComponent("spotify-moods/data_moods.csv").path
        let table = try SpotifyMoods(contentsOf: path)
        let scaler = MinMaxScaler(fitting: table.features)
        let samples = table.features.map { scaler.transform($0).map(Float.init) }
        let all = InMemoryData(
            samples: samples, sampleShape: [10], targets: .classes(table.labels, count: 4), storage: .float32)
        var times = [Double]()
        var accuracy: Float = 0
        for r in 0...repeats {
            var g = SeededGenerator(seed: UInt64(r))
            let recipe = FeatureModel.kerasMLP.recipe(inputs: 10, classes: 4, generator: &g)
            let learner = Learner(
                network: recipe.network, train: all, valid: all, batchSize: recipe.batchSize,
                optimizer: recipe.optimizer, seed: UInt64(r))
            learner.showProgress = false
            let t = try Stopwatch.time {
                try learner.fit(epochs: recipe.epochs, learningRate: recipe.learningRate, validate: false)
            }
            if r > 0 { times.append(t) }  // the first fit warms up
            accuracy = learner.evaluate(all).metric
        }
        let ours = Stopwatch.median(times)
        print("machine: \(Machine.description)")
        print(
            String(
                format: "mlp: %.4f s per 300-epoch fit (686 rows, batch 200, 1 thread); training accuracy %.2f %%",
                ours, 100 * accuracy))
        var peers = MLPPeerOutput()
        if settings.peers {
            do {
                let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_mlp.py"
                // jemalloc with its retention settings, as for the CNN: PyTorch's documented best.
                peers = try Peers.run(
                    MLPPeerOutput.self, script: script, arguments: [path, "\(repeats)"], preloadJemalloc: true)
                for (name, seconds, version) in [
                    ("scikit-learn", peers.sklearn_s, peers.sklearn_version),
                    ("PyTorch", peers.pytorch_s, peers.pytorch_version),
                ] {
                    guard let seconds else { continue }
                    print(
                        "\(name) \(version ?? ""): "
                            + String(format: "%.4f s per fit | ours %.1fx faster", seconds, seconds / ours))
                }
                print("Keras/TensorFlow: not installed here (the issue measured 19.5 s on this machine kind)")
            } catch { print("peers: not measured (\(error))") }
        }
        return MLPBenchRecord(machine: Machine.description, mlp_s: ours, peers: peers)
    }
}
