import Foundation
import MoodCore

// What the `mooddex bench` commands measure (their `--json` files) and what their peer scripts
// (scripts/peers/*.py) print. Typed here, in a library, so that `bench report` reads the numbers
// without string keys and the tests can check the formats; the property names are the JSON keys.

/// A benchmark's results: written with sorted keys (two runs diff cleanly) through `AtomicFile`.
public protocol BenchRecord: Codable, Sendable, Equatable {}

extension BenchRecord {
    public func write(to url: URL) throws {
        try AtomicFile.write(try Records.encoder.encode(self), to: url)
    }

    /// Reads `url`; an error names the file and the field that is missing or of the wrong type.
    public init(contentsOf url: URL) throws {
        let data = try RegularFile.contents(url.path, what: "a benchmark record")
        do { self = try Records.decoder.decode(Self.self, from: data) } catch let error as DecodingError {
            throw InputError(url.path, "not a readable benchmark record: \(error.plainDescription)")
        }
    }
}

/// `mooddex bench audio`: milliseconds per 30 s of audio, medians over clips and repeats.
public struct AudioBenchRecord: BenchRecord {
    public var machine: String
    public var clips: Int
    public var repeats: Int
    /// 44.1 kHz stereo MP3 to mono 22.05 kHz.
    public var decode_ms: Double
    /// libmpg123 alone, at the file's own rate and channels.
    public var raw_libmpg123_ms: Double
    public var logmel_ms: Double
    /// The four-minute file built for the seek test.
    public var long_file_seconds: Double
    public var middle30_ms: Double
    public var whole_long_ms: Double
    /// Empty (`{}`) when the peers were skipped or could not run.
    public var peers: AudioPeerOutput

    public init(
        machine: String, clips: Int, repeats: Int, decode_ms: Double, raw_libmpg123_ms: Double, logmel_ms: Double,
        long_file_seconds: Double, middle30_ms: Double, whole_long_ms: Double, peers: AudioPeerOutput
    ) {
        (self.machine, self.clips, self.repeats) = (machine, clips, repeats)
        (self.decode_ms, self.raw_libmpg123_ms, self.logmel_ms) = (decode_ms, raw_libmpg123_ms, logmel_ms)
        (self.long_file_seconds, self.middle30_ms, self.whole_long_ms, self.peers) = (
            long_file_seconds, middle30_ms, whole_long_ms, peers
        )
    }
}

/// What scripts/peers/bench_audio.py prints. Each peer's fields come together or not at all: librosa's
/// when it imports (else `librosa_error` says why), ffmpeg's when it is on the PATH.
public struct AudioPeerOutput: Codable, Sendable, Equatable {
    public var librosa_version: String?
    public var librosa_load_ms: Double?
    public var librosa_logmel_ms: Double?
    public var librosa_error: String?
    public var ffmpeg_version: String?
    public var ffmpeg_decode_ms: Double?

    /// No peer measured.
    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        librosa_error = try container.decodeIfPresent(String.self, forKey: .librosa_error)
        librosa_version = try container.decodeIfPresent(String.self, forKey: .librosa_version)
        if librosa_version != nil && librosa_error == nil {
            librosa_load_ms = try container.decode(Double.self, forKey: .librosa_load_ms)
            librosa_logmel_ms = try container.decode(Double.self, forKey: .librosa_logmel_ms)
        }
        ffmpeg_version = try container.decodeIfPresent(String.self, forKey: .ffmpeg_version)
        if ffmpeg_version != nil { ffmpeg_decode_ms = try container.decode(Double.self, forKey: .ffmpeg_decode_ms) }
    }
}

/// `mooddex bench cnn`: MoodCNN on random log-mel-sized inputs.
public struct CNNBenchRecord: BenchRecord {
    public var machine: String
    public var batch: Int
    public var threads: Int
    public var runs: [Run]

    /// One class count.
    public struct Run: Codable, Sendable, Equatable {
        public var classes: Int
        public var train_samples_per_s: Double
        public var infer_samples_per_s: Double
        public var forward_gflop_per_sample: Double
        public var peak_rss_bytes: Int
        /// Absent when PyTorch was skipped or could not run.
        public var pytorch: CNNPeerOutput?
        /// The same figures with oneDNN convolutions (absent when not timed).
        public var onednn_train_samples_per_s: Double?
        public var onednn_infer_samples_per_s: Double?
        public var onednn_peak_rss_bytes: Int?
        /// The oneDNN path in mixed precision (`onednn-bf16`): convolutions multiply bf16, keep fp32.
        public var onednn_bf16_train_samples_per_s: Double?
        public var onednn_bf16_infer_samples_per_s: Double?
        public var onednn_bf16_peak_rss_bytes: Int?

        public init(
            classes: Int, train_samples_per_s: Double, infer_samples_per_s: Double, forward_gflop_per_sample: Double,
            peak_rss_bytes: Int, pytorch: CNNPeerOutput?
        ) {
            (self.classes, self.train_samples_per_s, self.infer_samples_per_s) = (
                classes, train_samples_per_s, infer_samples_per_s
            )
            (self.forward_gflop_per_sample, self.peak_rss_bytes, self.pytorch) = (
                forward_gflop_per_sample, peak_rss_bytes, pytorch
            )
        }
    }

    public init(machine: String, batch: Int, threads: Int, runs: [Run]) {
        (self.machine, self.batch, self.threads, self.runs) = (machine, batch, threads, runs)
    }
}

/// What scripts/peers/bench_cnn.py prints: samples per second and peak memory per variant
/// (memory layout, bf16 autocast, torch.compile); a variant not asked for is absent.
public struct CNNPeerOutput: Codable, Sendable, Equatable {
    /// PyTorch's version, without the build suffix.
    public var version: String
    public var threads: Int
    /// Whether jemalloc was preloaded, and with which settings.
    public var jemalloc: Bool
    public var malloc_conf: String
    public var contiguous_train: Double?
    public var contiguous_infer: Double?
    public var contiguous_peak_rss_bytes: Int?
    public var channels_last_train: Double?
    public var channels_last_infer: Double?
    public var channels_last_peak_rss_bytes: Int?
    /// channels_last with bf16 autocast.
    public var channels_last_bf16_train: Double?
    public var channels_last_bf16_infer: Double?
    public var channels_last_bf16_peak_rss_bytes: Int?
    /// channels_last under `torch.compile` (inductor, default mode), fp32.
    public var channels_last_compiled_train: Double?
    public var channels_last_compiled_infer: Double?
    public var channels_last_compiled_peak_rss_bytes: Int?

    /// A variant's fields come together: training and inference rates and the memory peak
    /// (one without the others means the script changed; the error names the missing one).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(String.self, forKey: .version)
        threads = try c.decode(Int.self, forKey: .threads)
        jemalloc = try c.decode(Bool.self, forKey: .jemalloc)
        malloc_conf = try c.decode(String.self, forKey: .malloc_conf)
        func variant(_ train: CodingKeys, _ infer: CodingKeys, _ peak: CodingKeys) throws -> (Double, Double, Int)? {
            guard c.contains(train) || c.contains(infer) || c.contains(peak) else { return nil }
            return (
                try c.decode(Double.self, forKey: train), try c.decode(Double.self, forKey: infer),
                try c.decode(Int.self, forKey: peak)
            )
        }
        (contiguous_train, contiguous_infer, contiguous_peak_rss_bytes) =
            try variant(.contiguous_train, .contiguous_infer, .contiguous_peak_rss_bytes) ?? (nil, nil, nil)
        (channels_last_train, channels_last_infer, channels_last_peak_rss_bytes) =
            try variant(.channels_last_train, .channels_last_infer, .channels_last_peak_rss_bytes) ?? (nil, nil, nil)
        (channels_last_bf16_train, channels_last_bf16_infer, channels_last_bf16_peak_rss_bytes) =
            try variant(.channels_last_bf16_train, .channels_last_bf16_infer, .channels_last_bf16_peak_rss_bytes)
            ?? (nil, nil, nil)
        (channels_last_compiled_train, channels_last_compiled_infer, channels_last_compiled_peak_rss_bytes) =
            try variant(
                .channels_last_compiled_train, .channels_last_compiled_infer, .channels_last_compiled_peak_rss_bytes)
            ?? (nil, nil, nil)
    }

    /// The variants measured (the fp32 ones first): name, train and infer
    /// samples per second, and whether it computes in fp32.
    public var variants: [(name: String, train: Double, infer: Double, fp32: Bool)] {
        let all: [(String, Double?, Double?, Bool)] = [
            ("contiguous", contiguous_train, contiguous_infer, true),
            ("channels_last", channels_last_train, channels_last_infer, true),
            ("channels_last_compiled", channels_last_compiled_train, channels_last_compiled_infer, true),
            ("channels_last_bf16", channels_last_bf16_train, channels_last_bf16_infer, false),
        ]
        return all.compactMap { name, train, infer, fp32 in
            guard let train, let infer else { return nil }
            return (name, train, infer, fp32)
        }
    }

    /// PyTorch's fastest fp32 variant for training and for inference, each on its own
    /// (the goals' "PyTorch at its best"), with the variant's name.
    public var bestFP32: (train: (String, Double), infer: (String, Double))? {
        let fp32 = variants.filter(\.fp32)
        guard let train = fp32.max(by: { $0.train < $1.train }), let infer = fp32.max(by: { $0.infer < $1.infer })
        else { return nil }
        return ((train.name, train.train), (infer.name, infer.infer))
    }
}

/// `mooddex bench mlp`: seconds per 300-epoch fit, medians; the peers' figures sit beside ours
/// (absent when the peer is not installed or could not run).
public struct MLPBenchRecord: BenchRecord {
    public var machine: String
    public var mlp_s: Double
    public var sklearn_s: Double?
    public var sklearn_version: String?
    public var pytorch_s: Double?
    public var pytorch_version: String?

    public init(machine: String, mlp_s: Double, peers: MLPPeerOutput) {
        (self.machine, self.mlp_s) = (machine, mlp_s)
        (sklearn_s, sklearn_version, pytorch_s, pytorch_version) = (
            peers.sklearn_s, peers.sklearn_version, peers.pytorch_s, peers.pytorch_version
        )
    }
}

/// What scripts/peers/bench_mlp.py prints: each library's time and version, both present when it imports.
public struct MLPPeerOutput: Codable, Sendable, Equatable {
    public var sklearn_s: Double?
    public var sklearn_version: String?
    public var pytorch_s: Double?
    public var pytorch_version: String?

    /// No peer measured.
    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sklearn_s = try container.decodeIfPresent(Double.self, forKey: .sklearn_s)
        if sklearn_s != nil { sklearn_version = try container.decode(String.self, forKey: .sklearn_version) }
        pytorch_s = try container.decodeIfPresent(Double.self, forKey: .pytorch_s)
        if pytorch_s != nil { pytorch_version = try container.decode(String.self, forKey: .pytorch_version) }
    }
}

/// `mooddex bench classify`: the four-mood model end to end.
public struct ClassifyBenchRecord: BenchRecord {
    /// One 30-s MP3 on one core, after start-up.
    public var classify_one_ms: Double
    /// 100 files on `cores` cores.
    public var classify_100_s: Double
    public var cores: Int
    /// One training epoch over `clips` clips from cached spectrograms.
    public var epoch_s: Double
    public var clips: Int

    public init(classify_one_ms: Double, classify_100_s: Double, cores: Int, epoch_s: Double, clips: Int) {
        (self.classify_one_ms, self.classify_100_s, self.cores, self.epoch_s, self.clips) = (
            classify_one_ms, classify_100_s, cores, epoch_s, clips
        )
    }
}

/// `mooddex bench musicnn`: forward throughput of the pretrained networks on random patches.
public struct MusicnnBenchRecord: BenchRecord {
    public var machine: String
    public var batch: Int
    public var threads: Int
    /// Keyed by the model name (`MSD_musicnn`) for the reference backend, `MSD_musicnn_onednn` and so on for the others.
    public var networks: [String: Throughput]
    /// `mooddex tag` on one audio file (`--file`); absent without one.
    public var file: FileTagging?
    /// Absent when TensorFlow was skipped or could not run.
    public var tensorflow: MusicnnPeerOutput?

    /// `mooddex tag FILE` (MSD_musicnn, oneDNN): a whole process, start-up included, and its two
    /// halves inside one process.
    public struct FileTagging: Codable, Sendable, Equatable {
        public var file: String
        public var patches: Int
        public var process_s: Double
        public var decode_logmel_s: Double
        public var network_s: Double

        public init(file: String, patches: Int, process_s: Double, decode_logmel_s: Double, network_s: Double) {
            (self.file, self.patches, self.process_s, self.decode_logmel_s, self.network_s) = (
                file, patches, process_s, decode_logmel_s, network_s
            )
        }
    }

    public struct Throughput: Codable, Sendable, Equatable {
        public var patches_per_s: Double
        public var gflops: Double
        public var flops_per_patch: Double

        public init(patches_per_s: Double, gflops: Double, flops_per_patch: Double) {
            (self.patches_per_s, self.gflops, self.flops_per_patch) = (patches_per_s, gflops, flops_per_patch)
        }
    }

    public init(
        machine: String, batch: Int, threads: Int, networks: [String: Throughput], file: FileTagging? = nil,
        tensorflow: MusicnnPeerOutput?
    ) {
        (self.machine, self.batch, self.threads, self.networks, self.file, self.tensorflow) = (
            machine, batch, threads, networks, file, tensorflow
        )
    }
}

/// What scripts/peers/bench_musicnn.py prints for its default models, MSD_musicnn and MSD_vgg; the
/// tagger's three fields come together, when the benchmark passed it an audio file.
public struct MusicnnPeerOutput: Codable, Sendable, Equatable {
    /// TensorFlow's version.
    public var version: String
    public var threads: Int
    public var batch: Int
    public var MSD_musicnn_patches_per_s: Double
    public var MSD_vgg_patches_per_s: Double
    /// The audio file's name, its length and the wall time of a fresh process running musicnn's tagger on it.
    public var tagger_file: String?
    public var tagger_audio_s: Double?
    public var tagger_s: Double?

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(String.self, forKey: .version)
        threads = try container.decode(Int.self, forKey: .threads)
        batch = try container.decode(Int.self, forKey: .batch)
        MSD_musicnn_patches_per_s = try container.decode(Double.self, forKey: .MSD_musicnn_patches_per_s)
        MSD_vgg_patches_per_s = try container.decode(Double.self, forKey: .MSD_vgg_patches_per_s)
        tagger_file = try container.decodeIfPresent(String.self, forKey: .tagger_file)
        if tagger_file != nil {
            tagger_audio_s = try container.decode(Double.self, forKey: .tagger_audio_s)
            tagger_s = try container.decode(Double.self, forKey: .tagger_s)
        }
    }

    /// Patches per second for a model name as the benchmark keys it (`MSD_musicnn`, `MSD_vgg`).
    public func patchesPerSecond(_ model: String) -> Double? {
        switch model {
        case "MSD_musicnn": MSD_musicnn_patches_per_s
        case "MSD_vgg": MSD_vgg_patches_per_s
        default: nil
        }
    }
}

/// Decoding what a peer script printed.
public enum PeerOutput {
    /// `output` as `T`; an error names the script and the field that is missing or of the wrong type,
    /// so a peer that changed what it prints fails loudly instead of leaving a figure blank.
    public static func decode<T: Decodable>(_ type: T.Type, from output: Data, script: String) throws -> T {
        do { return try Records.decoder.decode(T.self, from: output) } catch let error as DecodingError {
            throw InputError(script, "unexpected output: \(error.plainDescription)")
        }
    }
}
