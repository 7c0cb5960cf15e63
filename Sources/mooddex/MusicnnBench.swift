import ArgumentParser
import Foundation
import MoodCore
import MoodPretrained
import MoodTensor

/// `mooddex bench musicnn`: forward throughput of the pretrained networks on random patches,
/// beside TensorFlow running the original checkpoints (scripts/peers/bench_musicnn.py).
struct MusicnnBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musicnn", abstract: "Pretrained musicnn / VGG forward speed vs TensorFlow (random 3-s patches).")

    @Option(help: "Patches per batch.") var batch = 32
    @Option(help: "Timed batches per figure (after one warm-up batch).") var steps = 3
    @Option(help: "Threads (ours and TensorFlow's intra-op).") var threads = Compute.availableCores
    @Option(parsing: .upToNextOption, help: "Convolution backends to time: reference, onednn, onednn-bf16 (each in the same run).")
    var backend: [InferenceBackend] = [.reference, .oneDNN]
    @Option(help: "An audio file to tag end to end, timed as a whole process beside musicnn's own tagger.") var file: String?
    @Flag(help: "Skip TensorFlow.") var noPeers = false
    @Flag(help: "Print where the time goes, layer by layer.") var profile = false
    @Option(help: "Also write the results to this JSON file.") var json: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        print("machine: \(Machine.description)")
        var results: [String: Any] = ["machine": Machine.description, "batch": batch, "threads": threads]
        var generator = SeededGenerator(seed: 3)
        let x = Tensor(shape: [batch, 1, MusicnnInput.patchFrames, MusicnnInput.melBands],
                       values: (0..<(batch * MusicnnInput.patchFrames * MusicnnInput.melBands)).map { _ in 4 * generator.nextUniform() })
        for model in [PretrainedModel.msdMusicnn, .msdVGG] { for backend in self.backend {
            let net = try model.load(cache: data.cache)
            net.network.setThreads(threads)
            net.network.setInferenceBackend(backend)
            _ = net.network.forward(x, training: false)
            let label = backend == .reference ? "\(model)" : "\(model) [\(backend.rawValue)]"
            if backend != .reference {
                var kernels = [String]()
                func visit(_ layer: Layer) {
                    if let k = (layer as? Conv2D)?.oneDNNImplementation, !kernels.contains(k) { kernels.append(k) }
                    layer.sublayers.forEach(visit)
                }
                visit(net.network)
                print("\(label): oneDNN kernels \(kernels.joined(separator: ", "))")
            }
            var profiles = [(String, Sequential, LayerProfile)]()
            if profile {
                func attach(_ layer: Layer, _ path: String) {
                    if let s = layer as? Sequential {
                        let p = LayerProfile(); s.profile = p; profiles.append((path, s, p))
                    }
                    for (i, sub) in layer.sublayers.enumerated() { attach(sub, path + "/\(i)") }
                }
                attach(net.network, label)
            }
            let seconds = Stopwatch.median((0..<steps).map { _ in Stopwatch.time { _ = net.network.forward(x, training: false) } })
            let rate = Double(batch) / seconds
            let gflops = net.forwardFLOPs * rate / 1e9
            print(String(format: "\(label): %.1f patches/s (%@, batch %d, %d threads), %.0f GFLOPS", rate,
                         backend == .oneDNNBF16 ? "bf16" : "fp32", batch, threads, gflops))
            // The reference backend keeps the historical key; the others get their own.
            results[backend == .reference ? model.rawValue : "\(model.rawValue)_\(backend.rawValue)"] =
                ["patches_per_s": rate, "gflops": gflops, "flops_per_patch": net.forwardFLOPs]
            for (path, s, p) in profiles {
                for (i, layer) in s.layers.enumerated() where layer.sublayers.isEmpty {
                    let f = (p.forward[i] ?? 0) / Double(steps)
                    guard f > 0.002 * seconds else { continue }
                    print(String(format: "  %@/%d %@ %.1f ms (%.1f%%)", path, i, "\(type(of: layer))", 1000 * f, 100 * f / seconds))
                }
                s.profile = nil
            }
        } }
        if !noPeers {
            let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_musicnn.py"
            var arguments = ["--batch", "\(batch)", "--threads", "\(threads)", "--repeats", "\(steps)",
                             "--musicnn", data.cache.appendingPathComponent(PretrainedModel.unpackedFolder).path]
            if let file { arguments.append(file) }
            do {
                let peer = try Peers.run(script: script, arguments: arguments)
                results["tensorflow"] = peer
                for model in ["MSD_musicnn", "MSD_vgg"] {
                    guard let theirs = (peer[model] as? [String: Any])?["patches_per_s"] as? Double,
                          let ours = (results[model] as? [String: Any])?["patches_per_s"] as? Double else { continue }
                    print(String(format: "tensorflow %@ %@: %.1f patches/s (ours %.2fx)", peer["version"] as? String ?? "", model, theirs, ours / theirs))
                }
            } catch { print("tensorflow: not measured (\(error))") }
        }
        if let json {
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]), to: URL(fileURLWithPath: json))
        }
    }
}
