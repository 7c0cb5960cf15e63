/// Decoded audio: Float samples in [-1, 1], interleaved when `channels` > 1.
public struct Audio: Sendable {
    /// Samples, `frameCount * channels` of them, interleaved.
    public var samples: [Float]
    /// Samples per second (per channel).
    public var sampleRate: Int
    /// Channel count: 1 after a mono mix.
    public var channels: Int

    public init(samples: [Float], sampleRate: Int, channels: Int = 1) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Sample frames (one sample per channel each).
    public var frameCount: Int { samples.count / max(channels, 1) }
    /// Length in seconds.
    public var duration: Double { Double(frameCount) / Double(sampleRate) }
}

/// What a file holds, read without decoding all of it.
public struct AudioInfo: Sendable, Equatable {
    public enum Format: String, Sendable { case mp3, wav, ogg }
    public var path: String
    public var format: Format
    /// The file's own rate and channel count.
    public var sampleRate: Int
    public var channels: Int
    /// Sample frames at the file's own rate (exact for WAV and for MP3 after a frame scan).
    public var frameCount: Int
    public var duration: Double { Double(frameCount) / Double(sampleRate) }
}

/// Which part of a file to decode.
public enum Segment: Sendable, Equatable, CustomStringConvertible {
    /// The whole file.
    case whole
    /// The first `seconds`.
    case first(seconds: Double)
    /// `seconds` centred on the middle of the file.
    case middle(seconds: Double)
    /// `seconds` starting at `start` seconds.
    case at(start: Double, seconds: Double)

    public var description: String {
        switch self {
        case .whole: return "whole"
        case .first(let s): return "first-\(s)s"
        case .middle(let s): return "middle-\(s)s"
        case .at(let start, let s): return "at-\(start)s-\(s)s"
        }
    }
}

/// What to do when a file is shorter than the segment asked for.
public enum ShortAudioPolicy: String, Sendable, CaseIterable {
    /// Zero-pad at the end to the segment's length, unless less than ``minimumSeconds`` of
    /// audio is there: a 0.2-s clip padded to 30 s is mostly silence, so it is reported.
    case pad
    /// Report the file as too short.
    case fail
    /// Zero-pad whatever is there, however short (`--pad-short`).
    case padAny = "pad-any"

    /// The least audio `pad` pads (or all of a shorter segment).
    public static let minimumSeconds = 3.0
}
