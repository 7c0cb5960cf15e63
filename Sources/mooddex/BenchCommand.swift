import ArgumentParser
import Foundation
import MoodAudio
import MoodCore
import MoodNotebook
import MoodSpectrogram

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure MoodDex side by side with its peers on this machine, in one run.",
        subcommands: [
            AudioBench.self, CNNBench.self, MusicnnBench.self, MLPBench.self, ClassifyBench.self,
            PrecisionBench.self, PerformanceReport.self,
        ])
}

struct AudioBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio",
        abstract: "Decoding and log-mel spectrograms vs librosa and ffmpeg, on 4Q clips at 44.1 kHz stereo.")

    /// What to time; `bench report` passes its own.
    struct Settings {
        var files = 12
        var repeats = 5
        var peers = true
    }

    @Option(help: "How many clips to time.") var files = Settings().files
    @Option(help: "Timings per clip (the median is reported).") var repeats = Settings().repeats
    @Flag(help: "Skip the Python/ffmpeg peers.") var noPeers = false
    @Option(help: "Also write the results to this JSON file.") var json: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        let record = try Self.measure(Settings(files: files, repeats: repeats, peers: !noPeers), data: data)
        if let json { try record.write(to: URL(fileURLWithPath: json)) }
    }

    /// Times ours and the peers, printing each figure as it comes.
    static func measure(_ settings: Settings, data: DataOptions) throws -> AudioBenchRecord {
        let repeats = settings.repeats
        let clips = try pickClips(settings.files, data: data)
        print("machine: \(Machine.description)")
        print("clips: \(clips.count) 4Q clips at 44.1 kHz stereo, \(repeats) timings each, medians")

        // Ours, one thread.
        var decode = [Double](), raw = [Double](), logmel = [Double]()
        let computer = try LogMelSpectrogram()
        for clip in clips {
            var audio = try AudioFile.decode(clip)
            let scale = 30 / audio.duration  // per 30 s of audio
            for _ in 0..<repeats {
                decode.append(scale * (try Stopwatch.time { audio = try AudioFile.decode(clip) }))
                raw.append(
                    scale * (try Stopwatch.time { _ = try AudioFile.decode(clip, sampleRate: nil, mono: false) }))
            }
            let thirty = try AudioFile.decode(clip, segment: .first(seconds: 30))
            for _ in 0..<repeats { logmel.append(Stopwatch.time { _ = computer(thirty.samples) }) }

        }
        let ms = { (values: [Double]) in 1000 * Stopwatch.median(values) }

        // The middle 30 s of a 4-minute file (eight clips' MPEG frames back to back) vs decoding it all.
        let long = try longFile(from: clips)
        defer { try? FileManager.default.removeItem(atPath: long) }
        let longInfo = try AudioFile.info(long)
        var middle = [Double](), whole = [Double]()
        for _ in 0..<repeats {
            middle.append(try Stopwatch.time { _ = try AudioFile.decode(long, segment: .middle(seconds: 30)) })
            whole.append(try Stopwatch.time { _ = try AudioFile.decode(long) })
        }

        var peers = AudioPeerOutput()
        if settings.peers {
            let script = FileManager.default.currentDirectoryPath + "/scripts/peers/bench_audio.py"
            do {
                peers = try Peers.run(
                    AudioPeerOutput.self, script: script, arguments: ["--repeats", "\(repeats)"] + clips)
            } catch { print("peers: not measured (\(error))") }
        }
        let record = AudioBenchRecord(
            machine: Machine.description, clips: clips.count, repeats: repeats,
            decode_ms: ms(decode), raw_libmpg123_ms: ms(raw), logmel_ms: ms(logmel),
            long_file_seconds: longInfo.duration, middle30_ms: ms(middle), whole_long_ms: ms(whole), peers: peers)

        let f = { (v: Double) in String(format: "%.2f", v) }
        var line = "logmel: \(f(record.logmel_ms)) ms per 30 s clip (96 x 1292, 1 thread)"
        if let theirs = peers.librosa_logmel_ms {
            line +=
                " | librosa \(peers.librosa_version ?? "") \(f(theirs)) ms | \(f(theirs / record.logmel_ms))x faster"
        }
        print(line)
        line =
            "decode: \(f(record.decode_ms)) ms per 30 s of 44.1 kHz stereo MP3 -> mono 22.05 kHz | raw libmpg123 (44.1 kHz stereo out) \(f(record.raw_libmpg123_ms)) ms: ratio \(f(record.decode_ms / record.raw_libmpg123_ms))"
        if let theirs = peers.librosa_load_ms {
            line += " | librosa.load \(f(theirs)) ms: \(f(theirs / record.decode_ms))x faster"
        }
        if let theirs = peers.ffmpeg_decode_ms {
            line +=
                " | ffmpeg \(peers.ffmpeg_version ?? "") (process) \(f(theirs)) ms: \(f(theirs / record.decode_ms))x faster"
        }
        print(line)
        print(
            "middle: \(f(record.middle30_ms)) ms for the middle 30 s of a \(String(format: "%.0f", longInfo.duration)) s file | whole-file decode \(f(record.whole_long_ms)) ms | \(f(record.whole_long_ms / record.middle30_ms))x faster"
        )
        return record
    }

    /// The first `count` 4Q clips at 44.1 kHz stereo from the data root, in name order.
    static func pickClips(_ count: Int, data: DataOptions) throws -> [String] {
        let folder = data.root.appendingPathComponent("4q").path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw InputError(
                folder,
                "4Q clips not found: the audio benchmark needs them (set --data-root or MOODDEX_DATA_ROOT; see README, Data)"
            )
        }
        var picked = [String]()
        for path in try FeatureCache.audioFiles(in: folder) where picked.count < count {
            if let info = try? AudioFile.info(path), info.sampleRate == 44100, info.channels == 2 {
                picked.append(path)
            }
        }
        guard !picked.isEmpty else { throw InputError(folder, "no 44.1 kHz stereo MP3 among the clips") }
        return picked
    }

    /// Eight clips' bytes back to back: a valid MPEG stream of about 4 minutes.
    static func longFile(from clips: [String]) throws -> String {
        var bytes = Data()
        for i in 0..<8 { bytes += try Data(contentsOf: URL(fileURLWithPath: clips[i % clips.count])) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mooddex-bench-long-\(getpid()).mp3")
            .path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }
}
