import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram
import MoodTensor

/// What a frozen musicnn front end computes for each clip, computed once and kept on disk.
///
/// The front end (timbral and temporal filters, 88 % of musicnn's FLOPs) runs over a clip's
/// whole compressed log-mel, not patch by patch, giving a `[561, T]` map (features x frames)
/// from which any 187-frame window is a patch's front-end output; at a window's edges the
/// features see the neighbouring music instead of zero padding, the only difference from
/// running the patch alone. Maps are stored as Float16 under
/// `<cache>/pretrained/frontend/<model>/<sha256 of the file>-<seconds>-<recipe>.f16`.
public final class FrontEndMaps: ClipWindowSource, @unchecked Sendable {
    public static let channels = 561
    public let model: PretrainedModel
    /// One map per clip: `channels x frames[i]` values, channel-major.
    public private(set) var maps: [[Float16]]
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
        precondition(model.architecture == .musicnn, "front-end maps exist for the musicnn architecture")
        self.model = model
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
                paths[i], seconds: seconds, minimumSeconds: minimumSeconds, net: net, computer: computer, folder: folder
            )
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
        folder: URL?
    ) throws -> ([Float16], Int) {
        let file = try folder.map {
            $0.appendingPathComponent(
                try SHA256.hex(ofFile: path) + String(format: "-%g-", seconds) + MusicnnInput.recipeVersion + ".f16")
        }
        if let file, let data = FileManager.default.contents(atPath: file.path), data.count > 8, data.count % 2 == 0 {
            let t = data.withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
            if (data.count - 8) == 2 * t * channels {
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
        let values = (0..<y.count).map { Float16(y.data[$0]) }
        var data = Data(count: 8)
        data.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(mel.frames), as: UInt64.self) }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        if let file { try AtomicFile.write(data, to: file) }
        return (values, mel.frames)
    }

    public var windowShape: [Int] { [Self.channels, MusicnnInput.patchFrames, 1] }

    /// Writes the window of `clip` starting at `start` as `[561, 187, 1]` Float32.
    public func window(_ clip: Int, start: Int, into destination: UnsafeMutablePointer<Float>) {
        let t = frames[clip], length = MusicnnInput.patchFrames
        maps[clip].withUnsafeBufferPointer { map in
            for c in 0..<Self.channels {
                Compute.convert(map.baseAddress! + c * t + start, to: destination + c * length, count: length)
            }
        }
    }
}
