import Foundation
import MoodCore
import MoodTensor
import MoodTraining

/// Each clip's compressed log-mel (musicnn's input, ``MusicnnInput``), held in memory as Float32
/// for training a whole network, front end included (a frozen front end reads ``FrontEndMaps``
/// instead). 30 s is `1,876 x 96` values, 0.7 MB a clip; not cached on disk, since decoding and
/// the mel cost a few percent of one epoch.
public final class ClipLogMels: @unchecked Sendable {
    /// One log-mel per clip: `frames[i] x 96` values, frame by frame.
    public let values: [[Float]]
    public let frames: [Int]

    /// The first `seconds` of each file, on `threads` workers; a clip shorter than a patch is
    /// repeated up to one, as musicnn repeats short audio. The first unreadable file is an error.
    public init(paths: [String], seconds: Double, threads: Int, progress: Bool) throws {
        let results = try ClipWorkers.run(
            paths.count, workers: max(1, min(threads, paths.count)), label: "log-mel", progress: progress,
            keepGoing: false
        ) { i, _, computer in
            MusicnnInput.repeatedToOnePatch(
                try MusicnnInput.logMel(file: paths[i], segment: .first(seconds: seconds), with: computer))
        }
        let mels = try results.map { try $0!.get() }
        values = mels.map(\.values)
        frames = mels.map(\.frames)
    }

    /// The 187-frame windows a clip is tagged by: non-overlapping, from the start (at least one).
    public func gridStarts(_ clip: Int) -> [Int] {
        (0..<max(1, frames[clip] / MusicnnInput.patchFrames)).map { $0 * MusicnnInput.patchFrames }
    }

    /// Writes the window of `clip` starting at `start` as `[1, 187, 96]`.
    public func window(_ clip: Int, start: Int, into destination: UnsafeMutablePointer<Float>) {
        let count = MusicnnInput.patchFrames * MusicnnInput.melBands
        values[clip].withUnsafeBufferPointer { source in
            destination.update(from: source.baseAddress! + start * MusicnnInput.melBands, count: count)
        }
    }
}

/// Training samples cut from log-mels, for a network whose front end trains: each item is a clip
/// and a window start; with augmentation a clip's window is drawn at random (a random 3-s crop),
/// otherwise the given start is used. The log-mel twin of ``FrontEndWindows``.
public struct LogMelWindows: TrainingData {
    public let mels: ClipLogMels
    public let items: [(clip: Int, start: Int)]
    public let targets: Targets

    /// One item per clip: its middle window (training draws random ones instead).
    public init(mels: ClipLogMels, clips: [Int], targets: Targets) {
        precondition(targets.sampleCount == clips.count, "\(targets.sampleCount) targets for \(clips.count) clips")
        self.mels = mels
        items = clips.map { c in (c, max(0, (mels.frames[c] - MusicnnInput.patchFrames) / 2)) }
        self.targets = targets
    }

    /// Every grid window of every clip (the tagger's patches), with placeholder targets.
    public init(gridOf mels: ClipLogMels, clips: [Int], outputs: Int) {
        self.mels = mels
        items = clips.flatMap { c in mels.gridStarts(c).map { (c, $0) } }
        targets = .tags(items.map { _ in [Float](repeating: 0, count: outputs) })
    }

    public var count: Int { items.count }
    public var sampleShape: [Int] { [1, MusicnnInput.patchFrames, MusicnnInput.melBands] }

    public func load(
        _ index: Int, into destination: UnsafeMutablePointer<Float>, augment: Bool, generator: inout SeededGenerator
    ) {
        let (clip, start) = items[index]
        let room = mels.frames[clip] - MusicnnInput.patchFrames
        let chosen = augment && room > 0 ? Int(generator.next() % UInt64(room + 1)) : start
        mels.window(clip, start: chosen, into: destination)
    }
}
