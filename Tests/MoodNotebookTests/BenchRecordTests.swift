import Foundation
import MoodCore
import MoodNotebook
import Testing

/// The `mooddex bench` records and the peer scripts' output, as `bench report` reads them.
@Suite struct BenchRecordTests {
    /// The JSON object at `url`, to check the keys that earlier untyped versions wrote.
    func object(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test func cnnRecordRoundTripsThroughItsFile() throws {
        let peer = try PeerOutput.decode(
            CNNPeerOutput.self,
            from: Data(
                """
                {"version": "2.5.1", "threads": 2, "jemalloc": true, "malloc_conf": "oversize_threshold:1",
                 "contiguous_train": 10.5, "contiguous_infer": 40.25, "contiguous_peak_rss_bytes": 4000000000,
                 "channels_last_train": 12, "channels_last_infer": 45.5, "channels_last_peak_rss_bytes": 4100000000,
                 "channels_last_bf16_train": 8.125, "channels_last_bf16_infer": 30, "channels_last_bf16_peak_rss_bytes": 4200000000}
                """.utf8), script: "bench_cnn.py")
        // A variant not asked for (here the compiled one) is absent, and the best fp32 figures skip bf16.
        #expect(peer.variants.map(\.name) == ["contiguous", "channels_last", "channels_last_bf16"])
        #expect(peer.bestFP32?.train.1 == 12 && peer.bestFP32?.infer.0 == "channels_last")
        let record = CNNBenchRecord(
            machine: "test CPU, 2 cores", batch: 32, threads: 2,
            runs: [
                .init(
                    classes: 4, train_samples_per_s: 21.5, infer_samples_per_s: 80.75, forward_gflop_per_sample: 1.25,
                    peak_rss_bytes: 3_000_000_000, pytorch: peer),
                .init(
                    classes: 56, train_samples_per_s: 20, infer_samples_per_s: .nan, forward_gflop_per_sample: 1.25,
                    peak_rss_bytes: 3_100_000_000, pytorch: nil),
            ])
        let folder = try temporaryFolder("bench")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("cnn.json")
        try record.write(to: url)
        let read = try CNNBenchRecord(contentsOf: url)
        #expect(read.runs[0] == record.runs[0])
        #expect(read.runs[1].infer_samples_per_s.isNaN)  // a failed timing survives as "nan"
        #expect(read.runs[1].pytorch == nil)
        #expect((read.machine, read.batch, read.threads) == (record.machine, record.batch, record.threads))
        // The keys the untyped version wrote; PyTorch's entry is left out when it was not measured.
        let runs = try #require(try object(url)["runs"] as? [[String: Any]])
        #expect(
            Set(runs[0].keys) == [
                "classes", "train_samples_per_s", "infer_samples_per_s", "forward_gflop_per_sample", "peak_rss_bytes",
                "pytorch",
            ])
        #expect(runs[1]["pytorch"] == nil)
    }

    @Test func audioRecordWithoutPeersWritesAnEmptyPeersObject() throws {
        let record = AudioBenchRecord(
            machine: "m", clips: 4, repeats: 3, decode_ms: 30.5, raw_libmpg123_ms: 20.25, logmel_ms: 4.5,
            long_file_seconds: 240, middle30_ms: 31, whole_long_ms: 250, peers: AudioPeerOutput())
        let folder = try temporaryFolder("bench")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("audio.json")
        try record.write(to: url)
        #expect(try AudioBenchRecord(contentsOf: url) == record)
        #expect((try object(url)["peers"] as? [String: Any])?.isEmpty == true)
    }

    @Test func aPeerOutputMissingAFieldIsAnErrorNamingScriptAndField() throws {
        let printed = Data(
            """
            {"version": "2.5.1", "threads": 2, "jemalloc": false, "malloc_conf": "",
             "contiguous_train": 10.5, "contiguous_infer": 40.25, "contiguous_peak_rss_bytes": 4000000000,
             "channels_last_train": 12, "channels_last_peak_rss_bytes": 4100000000}
            """.utf8)
        let error = try #require(throws: InputError.self) {
            try PeerOutput.decode(CNNPeerOutput.self, from: printed, script: "scripts/peers/bench_cnn.py")
        }
        #expect(error.path == "scripts/peers/bench_cnn.py")
        #expect(error.problem.contains("\"channels_last_infer\""), "\(error)")
    }

    @Test func aPeerOutputFieldOfTheWrongTypeIsNamed() throws {
        let printed = Data(
            #"{"version": "2.16.1", "threads": "two", "batch": 32, "MSD_musicnn_patches_per_s": 90, "MSD_vgg_patches_per_s": 150}"#
                .utf8)
        let error = try #require(throws: InputError.self) {
            try PeerOutput.decode(MusicnnPeerOutput.self, from: printed, script: "bench_musicnn.py")
        }
        #expect(error.problem.contains("\"threads\" is not a whole number"), "\(error)")
    }

    /// A library's fields come together: a time without its version means the script changed.
    @Test func aPeerThatReportsHalfALibraryIsAnError() throws {
        let none = try PeerOutput.decode(MLPPeerOutput.self, from: Data("{}".utf8), script: "bench_mlp.py")
        #expect(none == MLPPeerOutput())
        let both = try PeerOutput.decode(
            MLPPeerOutput.self, from: Data(#"{"pytorch_s": 0.42, "pytorch_version": "2.5.1"}"#.utf8),
            script: "bench_mlp.py")
        #expect(both.pytorch_s == 0.42 && both.sklearn_s == nil)
        let error = try #require(throws: InputError.self) {
            try PeerOutput.decode(MLPPeerOutput.self, from: Data(#"{"sklearn_s": 0.3}"#.utf8), script: "bench_mlp.py")
        }
        #expect(error.problem.contains("\"sklearn_version\""), "\(error)")
    }

    @Test func audioPeerWithLibrosaMissingKeepsFFmpeg() throws {
        let printed = Data(
            #"{"librosa_error": "No module named 'librosa'", "ffmpeg_version": "5.1.6", "ffmpeg_decode_ms": 41.5}"#.utf8
        )
        let peers = try PeerOutput.decode(AudioPeerOutput.self, from: printed, script: "bench_audio.py")
        #expect(peers.librosa_logmel_ms == nil && peers.ffmpeg_decode_ms == 41.5)
    }

    @Test func musicnnPeerReadsTheFlatKeysTheScriptPrints() throws {
        let printed = Data(
            #"{"version": "2.16.1", "threads": 2, "batch": 32, "MSD_musicnn_patches_per_s": 90.5, "MSD_vgg_patches_per_s": 150.25}"#
                .utf8)
        let peer = try PeerOutput.decode(MusicnnPeerOutput.self, from: printed, script: "bench_musicnn.py")
        #expect(peer.patchesPerSecond("MSD_musicnn") == 90.5 && peer.patchesPerSecond("MSD_vgg") == 150.25)
        #expect(peer.tagger_s == nil)
    }
}
