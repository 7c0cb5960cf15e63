import ArgumentParser
import Foundation
import MoodCore
import MoodTensor
import MoodTraining

/// `mooddex bench cnn`: MoodCNN training and inference on random log-mel-sized inputs,
/// beside PyTorch on the same shapes and thread count when it is installed.
struct CNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn", abstract: "MoodCNN training and inference speed vs PyTorch (random inputs, batch 32).")

    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Timed steps per figure (after one warm-up step).") var steps = 5
    @Option(help: "Threads (ours and PyTorch's).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(parsing: .upToNextOption, help: "Class counts to time.") var classes: [Int] = [4, 56]
    @Flag(help: "Skip PyTorch.") var noPeers = false
    @Flag(help: "Print where the time goes, layer by layer.") var profile = false
    @Option(help: "Also write the results to this JSON file.") var json: String?

    func run() throws {
        print("machine: \(Machine.description)")
        var results: [String: Any] = ["machine": Machine.description, "batch": batch, "threads": threads]
        var rows = [[String: Any]]()
        for count in classes {
            let model = MoodCNN(classes: count, seed: 1)
            model.network.setThreads(threads)
            let flops = model.forwardFLOPs()
            var generator = SeededGenerator(seed: 2)
            let x = Tensor(shape: [batch, 1, 96, 1292], values: (0..<(batch * 96 * 1292)).map { _ in generator.nextNormal() })
            let labels = (0..<batch).map { $0 % count }
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
            let layerProfile = LayerProfile()
            if profile { model.network.profile = layerProfile }
            let trainTime = Stopwatch.median((0..<steps).map { _ in Stopwatch.time { trainStep() } })
            model.network.profile = nil
            _ = model.network.forward(x, training: false)
            let inferTime = Stopwatch.median((0..<steps).map { _ in Stopwatch.time { _ = model.network.forward(x, training: false) } })
            let trainRate = Double(batch) / trainTime, inferRate = Double(batch) / inferTime
            print(String(format: "train: %.1f samples/s (fp32, batch %d, %d threads, %d classes), %.0f GFLOPS", trainRate, batch, threads, count, 3 * flops * trainRate / 1e9))
            print(String(format: "infer: %.1f samples/s (fp32, batch %d, %d threads, %d classes), %.0f GFLOPS", inferRate, batch, threads, count, flops * inferRate / 1e9))
            print(String(format: "memory: peak resident %.2f GB", Double(peakResidentBytes()) / 1e9))
            var row: [String: Any] = ["classes": count, "train_samples_per_s": trainRate, "infer_samples_per_s": inferRate,
                                      "forward_gflop_per_sample": flops / 1e9, "peak_rss_bytes": peakResidentBytes()]
            if profile {
                let total = layerProfile.forward.values.reduce(0, +) + layerProfile.backward.values.reduce(0, +)
                for (i, layer) in model.network.layers.enumerated() {
                    let f = layerProfile.forward[i] ?? 0, b = layerProfile.backward[i] ?? 0
                    let name = "\(type(of: layer))".padding(toLength: 18, withPad: " ", startingAt: 0)
                    print(String(format: "  %2d ", i) + name + String(format: " forward %7.1f ms  backward %7.1f ms  %5.1f%%",
                                 1000 * f / Double(steps), 1000 * b / Double(steps), 100 * (f + b) / total))
                }
            }
            if !noPeers {
                let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_cnn.py"
                do {
                    let peer = try Peers.run(script: script, arguments: ["--batch", "\(batch)", "--steps", "\(steps)", "--threads", "\(threads)", "--classes", "\(count)"], preloadJemalloc: true)
                    row["pytorch"] = peer
                    for layout in ["contiguous", "channels_last", "channels_last_bf16"] {
                        guard let t = peer["\(layout)_train"] as? Double, let i = peer["\(layout)_infer"] as? Double else { continue }
                        print("pytorch \(peer["version"] as? String ?? "") \(layout): " + String(format: "train %.1f samples/s (ours %.2fx), infer %.1f samples/s (ours %.2fx)",
                                     t, trainRate / t, i, inferRate / i))
                    }
                } catch { print("pytorch: not measured (\(error))") }
            }
            rows.append(row)
        }
        results["runs"] = rows
        if let json {
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]), to: URL(fileURLWithPath: json))
        }
    }
}

/// The process's peak resident set size (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
}
