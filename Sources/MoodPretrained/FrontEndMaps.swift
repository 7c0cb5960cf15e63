import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram
import MoodTensor

/// What a frozen front end computes for each clip, computed once and kept on disk.
///
/// The front end runs over a clip's whole compressed log-mel, not patch by patch, giving a
/// `[channels, rows, width]` map from which any 187-frame window is a patch's front-end output;
/// at a window's edges the features see the neighbouring music instead of zero padding, the
/// only difference from running the patch alone (for VGG, also the start's rounding below).
///
/// - musicnn: the timbral and temporal filters (88 % of its FLOPs), `[561, T, 1]`, one row per frame.
/// - VGG: blocks 1-2 (76 % of its FLOPs), `[128, rows, 24]`; the two poolings halve time twice,
///   so a row stands for 4 frames and a window is 46 rows. A window starting at frame `s` is cut
///   at row `s / 4` (rounded down): up to 3 frames (48 ms) earlier than the patch itself.
///
/// Maps are stored as Float16 under
/// `<cache>/pretrained/frontend/<model>/<sha256 of the file>-<seconds>-<recipe>.f16`.
public final class FrontEndMaps: ClipWindowSource, @unchecked Sendable {
    /// The shape of an architecture's front-end map.
    public struct Layout: Sendable, Equatable {
        public let architecture: MusicnnNetwork.Architecture
        public let channels: Int
        /// Values per row and channel (frequency bins left after the front end).
        public let width: Int
        /// Input frames per row.
        public let frameStride: Int

        public init(_ architecture: MusicnnNetwork.Architecture) {
            self.architecture = architecture
            switch architecture {
            case .musicnn: (channels, width, frameStride) = (561, 1, 1)
            case .vgg: (channels, width, frameStride) = (128, 24, 4)
            }
        }

        /// Rows of the map of `frames` input frames. VGG: pool 1 (4 x 1, stride 2) then pool 2
        /// (2 x 2, stride 2), both without padding.
        public func rows(frames: Int) -> Int {
            switch architecture {
            case .musicnn: frames
            case .vgg: ((frames - 4) / 2 + 1 - 2) / 2 + 1
            }
        }

        /// Rows of one 187-frame window.
        public var windowRows: Int { rows(frames: MusicnnInput.patchFrames) }

        /// Float values of one clip's map.
        public func count(frames: Int) -> Int { channels * rows(frames: frames) * width }
    }

    public let model: PretrainedModel
    public let layout: Layout
    /// One map per clip: `channels x rows x width` values, channel-major (``Layout``).
    public private(set) var maps: [[Float16]]
    /// Input frames per clip.
    public private(set) var frames: [Int]
    /// Files that could not be read, by index (only when built with `keepGoing`).
    public private(set) var failures: [Int: InputError] = [:]

    /// Maps of the first `seconds` of each file (a shorter file gives a shorter map; one
    /// shorter than a patch is repeated up to a patch, as musicnn pads short audio).
    ///
    /// `network` gives the networks whose front end runs (default: the released weights from
    /// the cache); `persist` false computes without reading or writing the disk cache;
    /// `keepGoing` records a file's error in ``failures`` and goes on with the others; a file
    /// with less than `minimumSeconds` of audio is an error.
    public init(
        model: PretrainedModel, paths: [String], seconds: Double, cache: URL, threads: Int, progress: Bool,
        persist: Bool = true, keepGoing: Bool = false, minimumSeconds: Double = 0,
        network: (() throws -> MusicnnNetwork)? = nil
    ) throws {
        self.model = model
        let layout = Layout(model.architecture)
        self.layout = layout
        maps = Array(repeating: [], count: paths.count)
        frames = Array(repeating: 0, count: paths.count)
        let folder: URL? = persist ? cache.appendingPathComponent("pretrained/frontend/\(model.rawValue)") : nil
        if let folder { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let workers = max(1, min(threads, paths.count))
        let networks = try (0..<workers).map { _ in try network?() ?? model.load(cache: cache) }
        let results = try ClipWorkers.run(
            paths.count, networks: networks, label: "\(model) front end", progress: progress,
            keepGoing: keepGoing
        ) { i, net, computer in
            try Self.map(
                paths[i], seconds: seconds, minimumSeconds: minimumSeconds, net: net, computer: computer,
                folder: folder,
                layout: layout)
        }
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let (map, t))?: maps[i] = map; frames[i] = t
            case .failure(let error)?: failures[i] = (error as? InputError) ?? InputError(paths[i], "\(error)")
            case nil: break
            }
        }
    }

    static func map(
        _ path: String, seconds: Double, minimumSeconds: Double, net: MusicnnNetwork, computer: LogMelSpectrogram,
        folder: URL?, layout: Layout
    ) throws -> ([Float16], Int) {
        let file = try folder.map {
            $0.appendingPathComponent(
                try SHA256.hex(ofFile: path) + String(format: "-%g-", seconds) + MusicnnInput.recipeVersion + ".f16")
        }
        if let file, let data = FileManager.default.contents(atPath: file.path), data.count > 8, data.count % 2 == 0 {
            // A damaged header is recomputed, never trusted: the frame count must fit the file.
            let header = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if let t = Int(exactly: header), t >= MusicnnInput.patchFrames, t <= data.count,
                (data.count - 8) == 2 * layout.count(frames: t)
            {
                let values = data.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float16.self)[4...]) }
                return (values, t)
            }
        }
        var mel = try MusicnnInput.logMel(file: path, segment: .first(seconds: seconds), with: computer)
        let duration = Double(mel.frames - 1) * 256 / Double(MusicnnInput.sampleRate)
        if duration < minimumSeconds {
            throw InputError(
                path,
                String(
                    format:
                        "only %.2f s of audio, less than the %.0f s a mood needs (--pad-short classifies it anyway)",
                    duration, minimumSeconds))
        }
        mel = MusicnnInput.repeatedToOnePatch(mel)  // a very short clip
        let x = Tensor(shape: [1, 1, mel.frames, MusicnnInput.melBands], values: mel.values)
        var y = x
        for layer in net.network.layers[net.groups[0]] { y = layer.forward(y, training: false) }
        precondition(
            y.count == layout.count(frames: mel.frames), "front-end map of \(y.shape) for \(mel.frames) frames")
        let values = (0..<y.count).map { Float16(y.data[$0]) }
        var data = Data(count: 8)
        data.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(mel.frames), as: UInt64.self) }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        if let file { try AtomicFile.write(data, to: file) }
        return (values, mel.frames)
    }

    public var windowShape: [Int] { [layout.channels, layout.windowRows, layout.width] }

    /// Every row a whole window fits after, each once (VGG: a start every 4 frames).
    public func randomStarts(_ clip: Int) -> (count: Int, stride: Int) {
        (layout.rows(frames: frames[clip]) - layout.windowRows + 1, layout.frameStride)
    }

    /// Writes the window of `clip` starting at frame `start` as `windowShape` Float32 values
    /// (from row `start / frameStride`, kept inside the map).
    public func window(_ clip: Int, start: Int, into destination: UnsafeMutablePointer<Float>) {
        let rows = layout.rows(frames: frames[clip]), length = layout.windowRows * layout.width
        let row = min(start / layout.frameStride, rows - layout.windowRows)
        maps[clip].withUnsafeBufferPointer { map in
            for c in 0..<layout.channels {
                Compute.convert(
                    map.baseAddress! + (c * rows + row) * layout.width, to: destination + c * length, count: length)
            }
        }
    }
}
