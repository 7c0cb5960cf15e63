import ArgumentParser
import Foundation
import MoodCore
import MoodNotebook
import MoodTensor
import MoodTraining

/// `mooddex bench cnn`: MoodCNN training and inference on random log-mel-sized inputs,
/// beside PyTorch on the same shapes and thread count when it is installed.
struct CNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn", abstract: "MoodCNN training and inference speed vs PyTorch (random inputs, batch 32).")

    /// What to time; `bench report` passes its own.
    struct Settings {
        var batch = 32
        var steps = 5
        var threads = ProcessInfo.processInfo.activeProcessorCount
        var classes = [4, 56]
        var peers = true
        var profile = false
        /// Our convolution backends, each timed on the same model and input (training and inference).
        var backends: [TrainingBackend] = [.reference, .oneDNN, .oneDNNBF16]
        /// PyTorch's variants (scripts/peers/bench_cnn.py `--variants`); empty runs them all.
        var peerVariants: [String] = []
    }

    @Option(help: "Batch size.") var batch = Settings().batch
    @Option(help: "Timed steps per figure (after one warm-up step).") var steps = Settings().steps
    @Option(help: "Threads (ours and PyTorch's).") var threads = Settings().threads
    @Option(parsing: .upToNextOption, help: "Class counts to time.") var classes: [Int] = Settings().classes
    @Flag(help: "Skip PyTorch.") var noPeers = false
    @Flag(help: "Print where the time goes, layer by layer.") var profile = false
    @Option(
        parsing: .upToNextOption,
        help:
            "Our convolution backends to time: reference (deterministic, what reports use), onednn, onednn-bf16 (mixed precision)."
    )
    var backends: [TrainingBackend] = Settings().backends
    @Option(help: "Also write the results to this JSON file.") var json: String?

    func run() throws {
        let record = Self.measure(
            Settings(
                batch: batch, steps: steps, threads: threads, classes: classes, peers: !noPeers, profile: profile,
                backends: backends))
        if let json { try record.write(to: URL(fileURLWithPath: json)) }
    }

    /// Times ours and PyTorch for each class count, printing each figure as it comes.
    static func measure(_ settings: Settings) -> CNNBenchRecord {
        let (batch, steps, threads) = (settings.batch, settings.steps, settings.threads)
        print("machine: \(Machine.description)")
        var runs = [CNNBenchRecord.Run]()
        for count in settings.classes {
            var generator = SeededGenerator(seed: 2)
            let x = Tensor(
                shape: [batch, 1, 96, 1292], values: (0..<(batch * 96 * 1292)).map { _ in generator.nextNormal() })
            let labels = (0..<batch).map { $0 % count }
            var rates = [TrainingBackend: (train: Double, infer: Double, peak: Int)]()
            var flops = 0.0
            for backend in settings.backends {
                resetPeakResident()  // each backend's own peak (the last one's tensors are freed by now)
                let model = MoodCNN(classes: count, seed: 1)
                model.network.setThreads(threads)
                model.network.setTrainingBackend(backend)
                model.network.setInferenceBackend(backend.inference)
                flops = model.forwardFLOPs()
                let optimiser = Adam.adamW([ParameterGroup(model.parameters)])
                let gradient = Tensor(shape: [0])
                func trainStep() {
                    let logits = model.network.forward(x, training: true)
                    _ = SoftmaxCrossEntropy.loss(logits, targets: labels, gradient: gradient)
                    optimiser.zeroGradients()
                    _ = model.network.backward(gradient)
                    optimiser.step(learningRate: 1e-3, momentum: 0.9)
                }
                trainStep()
                if model.network.oneDNNTrainingFellBack {
                    print("\(backend.rawValue): not measured (oneDNN could not build its primitives on this CPU)")
                    continue
                }
                let layerProfile = LayerProfile()
                if settings.profile { model.network.profile = layerProfile }
                let trainTime = Stopwatch.median((0..<steps).map { _ in Stopwatch.time { trainStep() } })
                model.network.profile = nil
                _ = model.network.forward(x, training: false)
                let inferenceProfile = LayerProfile()
                if settings.profile { model.network.profile = inferenceProfile }
                let inferTime = Stopwatch.median(
                    (0..<steps).map { _ in Stopwatch.time { _ = model.network.forward(x, training: false) } })
                model.network.profile = nil
                let trainRate = Double(batch) / trainTime, inferRate = Double(batch) / inferTime
                rates[backend] = (trainRate, inferRate, peakResidentBytes())
                let precision = backend == .oneDNNBF16 ? "bf16 convolutions" : "fp32"
                let setting =
                    "(\(precision), \(backend.rawValue), batch \(batch), \(threads) threads, \(count) classes)"
                print(
                    String(format: "train: %.1f samples/s ", trainRate) + setting
                        + String(format: ", %.0f GFLOPS", 3 * flops * trainRate / 1e9))
                print(
                    String(format: "infer: %.1f samples/s ", inferRate) + setting
                        + String(format: ", %.0f GFLOPS", flops * inferRate / 1e9))
                print(String(format: "memory: peak resident %.2f GB", Double(peakResidentBytes()) / 1e9))
                if settings.profile {
                    print("training, per step:")
                    Self.printProfile(layerProfile, network: model.network, steps: steps)
                    print("inference, per batch:")
                    Self.printProfile(inferenceProfile, network: model.network, steps: steps)
                }
            }
            let reference = rates[.reference], oneDNN = rates[.oneDNN]
            var run = CNNBenchRecord.Run(
                classes: count, train_samples_per_s: reference?.train ?? .nan,
                infer_samples_per_s: reference?.infer ?? .nan, forward_gflop_per_sample: flops / 1e9,
                peak_rss_bytes: reference?.peak ?? 0, pytorch: nil)
            run.onednn_train_samples_per_s = oneDNN?.train
            run.onednn_infer_samples_per_s = oneDNN?.infer
            run.onednn_peak_rss_bytes = oneDNN?.peak
            let bf16 = rates[.oneDNNBF16]
            run.onednn_bf16_train_samples_per_s = bf16?.train
            run.onednn_bf16_infer_samples_per_s = bf16?.infer
            run.onednn_bf16_peak_rss_bytes = bf16?.peak
            if settings.peers {
                let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_cnn.py"
                do {
                    let peer = try Peers.run(
                        CNNPeerOutput.self, script: script,
                        arguments: [
                            "--batch", "\(batch)", "--steps", "\(steps)", "--threads", "\(threads)", "--classes",
                            "\(count)",
                        ] + (settings.peerVariants.isEmpty ? [] : ["--variants"] + settings.peerVariants),
                        preloadJemalloc: true)
                    run.pytorch = peer
                    for (variant, t, i, _) in peer.variants {
                        let ours = settings.backends.compactMap { b in
                            rates[b].map {
                                "\(b.rawValue) " + String(format: "%.2fx / %.2fx", $0.train / t, $0.infer / i)
                            }
                        }
                        print(
                            "pytorch \(peer.version) \(variant): "
                                + String(format: "train %.1f samples/s, infer %.1f samples/s", t, i)
                                + " (ours, train / infer: \(ours.joined(separator: "; ")))")
                    }
                } catch { print("pytorch: not measured (\(error))") }
            }
            runs.append(run)
        }
        return CNNBenchRecord(machine: Machine.description, batch: batch, threads: threads, runs: runs)
    }
}

extension CNNBench {
    static func printProfile(_ layerProfile: LayerProfile, network: Sequential, steps: Int) {
        let total = layerProfile.forward.values.reduce(0, +) + layerProfile.backward.values.reduce(0, +)
        for (i, layer) in network.layers.enumerated() {
            let name = "\(type(of: layer))".padding(toLength: 18, withPad: " ", startingAt: 0)
            guard let f = layerProfile.forward[i] else {
                print(String(format: "  %2d ", i) + name + " fused into the step above")
                continue
            }
            let b = layerProfile.backward[i] ?? 0
            print(
                String(format: "  %2d ", i) + name
                    + String(
                        format: " forward %7.1f ms  backward %7.1f ms  %5.1f%%",
                        1000 * f / Double(steps), 1000 * b / Double(steps), 100 * (f + b) / total))
        }
    }
}

/// Resets the peak resident set size to the current one (Linux: `5` into /proc/self/clear_refs).
func resetPeakResident() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// The process's peak resident set size (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
}
