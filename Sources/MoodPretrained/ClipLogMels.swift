import Foundation
import MoodCore
import MoodTensor
import MoodTraining

/// Each clip's compressed log-mel (musicnn's input, ``MusicnnInput``), held in memory as Float32
/// for training a whole network, front end included (a frozen front end reads ``FrontEndMaps``
/// instead). 30 s is `1,876 x 96` values, 0.7 MB a clip; not cached on disk, since decoding and
/// the mel cost a few percent of one epoch.
public final class ClipLogMels: ClipWindowSource, @unchecked Sendable {
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

    public var windowShape: [Int] { [1, MusicnnInput.patchFrames, MusicnnInput.melBands] }

    /// Writes the window of `clip` starting at `start` as `[1, 187, 96]`.
    public func window(_ clip: Int, start: Int, into destination: UnsafeMutablePointer<Float>) {
        let count = MusicnnInput.patchFrames * MusicnnInput.melBands
        values[clip].withUnsafeBufferPointer { source in
            destination.update(from: source.baseAddress! + start * MusicnnInput.melBands, count: count)
        }
    }
}
