import ArgumentParser
import Foundation
import MoodCore
import MoodNotebook
import MoodPretrained
import MoodSpectrogram
import MoodTensor

/// `mooddex bench musicnn`: forward throughput of the pretrained networks on random patches,
/// beside TensorFlow running the original checkpoints (scripts/peers/bench_musicnn.py).
struct MusicnnBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musicnn", abstract: "Pretrained musicnn / VGG forward speed vs TensorFlow (random 3-s patches).")

    /// What to time.
    struct Settings {
        var batch = 32
        var steps = 3
        var threads = Compute.availableCores
        var backends: [InferenceBackend] = [.reference, .oneDNN]
        /// An audio file for musicnn's own tagger, timed as a whole process.
        var file: String?
        var peers = true
        var profile = false
    }

    @Option(help: "Patches per batch.") var batch = Settings().batch
    @Option(help: "Timed batches per figure (after one warm-up batch).") var steps = Settings().steps
    @Option(help: "Threads (ours and TensorFlow's intra-op).") var threads = Settings().threads
    @Option(
        parsing: .upToNextOption,
        help: "Convolution backends to time: reference, onednn, onednn-bf16 (each in the same run).")
    var backend: [InferenceBackend] = Settings().backends
    @Option(help: "An audio file to tag end to end, timed as a whole process beside musicnn's own tagger.") var file:
        String?
    @Flag(help: "Skip TensorFlow.") var noPeers = false
    @Flag(help: "Print where the time goes, layer by layer.") var profile = false
    @Option(help: "Also write the results to this JSON file.") var json: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        let settings = Settings(
            batch: batch, steps: steps, threads: threads, backends: backend, file: file, peers: !noPeers,
            profile: profile)
        let record = try Self.measure(settings, data: data)
        if let json { try record.write(to: URL(fileURLWithPath: json)) }
    }

    /// Times each network on each backend, then TensorFlow, printing each figure as it comes.
    static func measure(_ settings: Settings, data: DataOptions) throws -> MusicnnBenchRecord {
        let (batch, steps, threads) = (settings.batch, settings.steps, settings.threads)
        print("machine: \(Machine.description)")
        var networks = [String: MusicnnBenchRecord.Throughput]()
        var generator = SeededGenerator(seed: 3)
        let x = Tensor(
            shape: [batch, 1, MusicnnInput.patchFrames, MusicnnInput.melBands],
            values: (0..<(batch * MusicnnInput.patchFrames * MusicnnInput.melBands)).map { _ in
                4 * generator.nextUniform()
            })
        for model in [PretrainedModel.msdMusicnn, .msdVGG] {
            for backend in settings.backends {
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
                if settings.profile {
                    func attach(_ layer: Layer, _ path: String) {
                        if let s = layer as? Sequential {
                            let p = LayerProfile(); s.profile = p; profiles.append((path, s, p))
                        }
                        for (i, sub) in layer.sublayers.enumerated() { attach(sub, path + "/\(i)") }
                    }
                    attach(net.network, label)
                }
                let seconds = Stopwatch.median(
                    (0..<steps).map { _ in Stopwatch.time { _ = net.network.forward(x, training: false) } })
                let rate = Double(batch) / seconds
                let gflops = net.forwardFLOPs * rate / 1e9
                print(
                    String(
                        format: "\(label): %.1f patches/s (%@, batch %d, %d threads), %.0f GFLOPS", rate,
                        backend == .oneDNNBF16 ? "bf16" : "fp32", batch, threads, gflops))
                // The reference backend keeps the historical key; the others get their own.
                networks[backend == .reference ? model.rawValue : "\(model.rawValue)_\(backend.rawValue)"] =
                    .init(patches_per_s: rate, gflops: gflops, flops_per_patch: net.forwardFLOPs)
                for (path, s, p) in profiles {
                    for (i, layer) in s.layers.enumerated() where layer.sublayers.isEmpty {
                        let f = (p.forward[i] ?? 0) / Double(steps)
                        guard f > 0.002 * seconds else { continue }
                        print(
                            String(
                                format: "  %@/%d %@ %.1f ms (%.1f%%)", path, i, "\(type(of: layer))", 1000 * f,
                                100 * f / seconds))
                    }
                    s.profile = nil
                }
            }
        }
        var file: MusicnnBenchRecord.FileTagging?
        if let path = settings.file { file = try tagFile(path, threads: threads, data: data) }
        var tensorflow: MusicnnPeerOutput?
        if settings.peers {
            let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_musicnn.py"
            var arguments = [
                "--batch", "\(batch)", "--threads", "\(threads)", "--repeats", "\(steps)",
                "--musicnn", data.cache.appendingPathComponent(PretrainedModel.unpackedFolder).path,
            ]
            if let file = settings.file { arguments.append(file) }
            do {
                let peer = try Peers.run(
                    MusicnnPeerOutput.self, script: script, arguments: arguments, tensorflow: true)
                tensorflow = peer
                for model in [PretrainedModel.msdMusicnn, .msdVGG] {
                    guard let theirs = peer.patchesPerSecond(model.rawValue) else { continue }
                    let ours = settings.backends.compactMap { backend -> String? in
                        let key = backend == .reference ? model.rawValue : "\(model.rawValue)_\(backend.rawValue)"
                        return networks[key].map {
                            String(format: "%@ %.2fx", backend.rawValue, $0.patches_per_s / theirs)
                        }
                    }
                    print(
                        String(
                            format: "tensorflow %@ %@: %.1f patches/s (ours: %@)", peer.version, model.rawValue,
                            theirs, ours.joined(separator: ", ")))
                }
                if let name = peer.tagger_file, let seconds = peer.tagger_s {
                    print(
                        String(
                            format: "tensorflow musicnn tagger on %@: %.2f s per process, start-up included%@", name,
                            seconds,
                            file.map { String(format: " (mooddex tag %.1fx faster)", seconds / $0.process_s) } ?? ""))
                }
            } catch { print("tensorflow: not measured (\(error))") }
        }
        return MusicnnBenchRecord(
            machine: Machine.description, batch: batch, threads: threads, networks: networks, file: file,
            tensorflow: tensorflow)
    }

    /// `mooddex tag FILE` as a user runs it: a whole process, start-up included (one warm-up run,
    /// then the median of three), and inside one process the two halves of its work, decoding
    /// with the log-mel and the network (oneDNN, as `tag` runs it; medians of five).
    static func tagFile(_ path: String, threads: Int, data: DataOptions) throws -> MusicnnBenchRecord.FileTagging {
        let tagger = try Tagger(.msdMusicnn, cache: data.cache, threads: threads, backend: .oneDNN)
        let computer = try LogMelSpectrogram(MusicnnInput.parameters)
        var mel = try MusicnnInput.logMel(file: path, with: computer)
        var (patches, count) = MusicnnInput.patches(mel)
        guard count > 0 else { throw InputError(path, "too short for one 3-s patch") }
        _ = tagger.taggram(patches: patches, count: count)
        let decoding = try Stopwatch.median(
            (0..<5).map { _ in try Stopwatch.time { mel = try MusicnnInput.logMel(file: path, with: computer) } })
        (patches, count) = MusicnnInput.patches(mel)
        let network = Stopwatch.median(
            (0..<5).map { _ in Stopwatch.time { _ = tagger.taggram(patches: patches, count: count) } })
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let arguments = [
            "tag", "--model", "MSD_musicnn", "--threads", "\(threads)", "--cache-dir", data.cache.path, path,
        ]
        func runOnce() throws -> Double {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            let seconds = try Stopwatch.time {
                try process.run()
                process.waitUntilExit()
            }
            guard process.terminationStatus == 0 else {
                throw InputError(path, "mooddex tag failed on it (exit \(process.terminationStatus))")
            }
            return seconds
        }
        _ = try runOnce()
        let process = Stopwatch.median(try (0..<3).map { _ in try runOnce() })
        let name = URL(fileURLWithPath: path).lastPathComponent
        print(
            String(
                format:
                    "mooddex tag on %@ (%d patches): %.2f s per process, start-up included; in one process %.0f ms decoding and log-mel (%.0f %%), %.0f ms network",
                name, count, process, 1000 * decoding, 100 * decoding / (decoding + network), 1000 * network))
        return .init(
            file: name, patches: count, process_s: process, decode_logmel_s: decoding, network_s: network)
    }
}
