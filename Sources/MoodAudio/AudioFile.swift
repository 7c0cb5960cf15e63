import Foundation
import MoodCore

/// Decoding of audio files (MP3 through libmpg123, Ogg Vorbis through libvorbisfile, WAV
/// read directly) into mono
/// Float samples at a target rate, whole or in segments.
///
/// Every failure is an `InputError` naming the file and the reason: a missing
/// file, a folder, an empty file, an ID3 tag with no audio, random bytes, text
/// named `.mp3`, a truncated MP3, a broken WAV header.
public enum AudioFile {
    /// The thesis's rate (and librosa's default): 22050 Hz.
    public static let defaultSampleRate = 22050

    /// Rate, channels and exact length, without decoding the samples.
    public static func info(_ path: String) throws -> AudioInfo {
        switch try sniff(path) {
        case .wav:
            return try WAVSource.info(path: path)
        case .mp3:
            let source = try MP3Source(path: path, sampleRate: nil, mono: false)
            return AudioInfo(
                path: path, format: .mp3, sampleRate: source.sourceRate,
                channels: source.sourceChannels, frameCount: source.outputFrameCount)
        case .ogg:
            let source = try OggSource(path: path, sampleRate: nil)
            return AudioInfo(
                path: path, format: .ogg, sampleRate: source.sourceRate, channels: source.sourceChannels,
                frameCount: source.sourceFrameCount)
        }
    }

    /// Decodes `segment` of the file at `sampleRate` (nil: the file's own), mixed to mono
    /// (L+R)/2 unless `mono` is false. A middle or later segment of an MP3 is reached by
    /// seeking through libmpg123's frame index, not by decoding what lies before it.
    public static func decode(
        _ path: String, sampleRate: Int? = defaultSampleRate, mono: Bool = true,
        segment: Segment = .whole, short: ShortAudioPolicy = .pad
    ) throws -> Audio {
        if let sampleRate, !(1000...384_000).contains(sampleRate) {
            throw InvalidParameter("sampleRate", sampleRate, "must be between 1000 and 384000 Hz")
        }
        let source = try open(path, sampleRate: sampleRate, mono: mono)
        return try read(segment, from: source, short: short)
    }

    /// `count` crops of `seconds` each, evenly spaced from the start to the end of the
    /// file (one crop: the middle). Crops overlap when the file is shorter than
    /// `count * seconds`; a file shorter than one crop follows `short`.
    public static func crops(
        _ path: String, count: Int, seconds: Double, sampleRate: Int = defaultSampleRate,
        short: ShortAudioPolicy = .pad
    ) throws -> [Audio] {
        guard (1...1000).contains(count) else { throw InvalidParameter("count", count, "must be from 1 to 1000") }
        let source = try open(path, sampleRate: sampleRate, mono: true)
        let length = try segmentLength(seconds, rate: source.outputRate)
        let total = source.outputFrameCount
        if count == 1 || total <= length { return [try read(.middle(seconds: seconds), from: source, short: short)] }
        return try (0..<count).map { i in
            let start = (total - length) * i / (count - 1)
            return try read(
                .at(start: Double(start) / Double(source.outputRate), seconds: seconds), from: source, short: short)
        }
    }

    // MARK: - Internals

    enum Sniffed { case wav, ogg, mp3 }

    /// Checks that `path` is a readable, non-empty file and tells WAV from (presumed) MP3.
    static func sniff(_ path: String) throws -> Sniffed {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw InputError(path, "is a directory, not an audio file") }
        try RegularFile.check(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path, "cannot be read (permission denied?)")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 12)) ?? Data()
        guard !head.isEmpty else { throw InputError(path, "empty file (0 bytes)") }
        let isRIFF = head.count >= 12 && head.prefix(4) == Data("RIFF".utf8) && head.suffix(4) == Data("WAVE".utf8)
        if isRIFF || path.lowercased().hasSuffix(".wav") { return .wav }
        if head.prefix(4) == Data("OggS".utf8) || path.lowercased().hasSuffix(".ogg") { return .ogg }
        return .mp3
    }

    /// One decoding source, MP3 or WAV, behind the two operations segments need.
    enum Source {
        case mp3(MP3Source)
        case wav(WAVSource)
        case ogg(OggSource)

        var path: String {
            switch self {
            case .mp3(let s): return s.path;
            case .wav(let s): return s.path;
            case .ogg(let s): return s.path
            }
        }
        var outputRate: Int {
            switch self {
            case .mp3(let s): return s.outputRate;
            case .wav(let s): return s.outputRate;
            case .ogg(let s): return s.outputRate
            }
        }
        var outputChannels: Int {
            switch self {
            case .mp3(let s): return s.outputChannels;
            case .wav(let s): return s.outputChannels;
            case .ogg(let s): return s.outputChannels
            }
        }
        var outputFrameCount: Int {
            switch self {
            case .mp3(let s): return s.outputFrameCount;
            case .wav(let s): return s.outputFrameCount;
            case .ogg(let s): return s.outputFrameCount
            }
        }
        func seek(toFrame frame: Int) throws {
            switch self {
            case .mp3(let s): try s.seek(toFrame: frame);
            case .wav(let s): try s.seek(toFrame: frame);
            case .ogg(let s): try s.seek(toFrame: frame)
            }
        }
        func read(frames: Int?) throws -> [Float] {
            switch self {
            case .mp3(let s): return try s.read(frames: frames);
            case .wav(let s): return try s.read(frames: frames);
            case .ogg(let s): return try s.read(frames: frames)
            }
        }
    }

    static func open(_ path: String, sampleRate: Int?, mono: Bool) throws -> Source {
        switch try sniff(path) {
        case .wav: return .wav(try WAVSource(path: path, sampleRate: sampleRate, mono: mono))
        case .mp3: return .mp3(try MP3Source(path: path, sampleRate: sampleRate, mono: mono))
        case .ogg:
            guard mono else { throw InvalidParameter("mono", mono, "Ogg Vorbis input is always mixed to mono") }
            return .ogg(try OggSource(path: path, sampleRate: sampleRate))
        }
    }

    /// The longest segment: a short file is padded up to the segment's length, so an absurd
    /// length (1e12 s) would otherwise be an allocation of terabytes.
    public static let maximumSegmentSeconds = 3600.0

    static func segmentLength(_ seconds: Double, rate: Int) throws -> Int {
        guard seconds.isFinite, seconds > 0 else {
            throw InvalidParameter("seconds", seconds, "must be a positive number of seconds")
        }
        guard seconds <= maximumSegmentSeconds else {
            throw InvalidParameter(
                "seconds", seconds,
                "must be at most \(Int(maximumSegmentSeconds)) (one hour); use the whole file for longer")
        }
        // At high rates an hour is still too much to pad: at most 2^28 frames (1 GiB of mono Float).
        guard seconds * Double(rate) <= Double(1 << 28) else {
            throw InvalidParameter(
                "seconds", seconds, "must be at most \(Int(Double(1 << 28) / Double(rate))) at \(rate) Hz")
        }
        return Int((seconds * Double(rate)).rounded())
    }

    static func read(_ segment: Segment, from source: Source, short: ShortAudioPolicy) throws -> Audio {
        let rate = source.outputRate, channels = source.outputChannels
        let total = source.outputFrameCount
        guard total > 0 else { throw InputError(source.path, "no audio: the file holds no samples") }
        var start = 0
        var length: Int? = nil
        switch segment {
        case .whole:
            break
        case .first(let seconds):
            length = try segmentLength(seconds, rate: rate)
        case .middle(let seconds):
            let l = try segmentLength(seconds, rate: rate)
            length = l
            start = max(0, (total - l) / 2)
        case .at(let at, let seconds):
            guard at.isFinite, at >= 0, at <= 1e7 else {
                throw InvalidParameter("start", at, "must be from zero to 1e7 seconds")
            }
            length = try segmentLength(seconds, rate: rate)
            start = Int((at * Double(rate)).rounded())
            guard start < total else {
                throw InputError(
                    source.path,
                    String(
                        format: "segment starts at %.2f s, after the end of the file (%.2f s)", at,
                        Double(total) / Double(rate)))
            }
        }
        if let length, total - start < length, short == .fail {
            throw InputError(
                source.path,
                String(
                    format: "too short: %.2f s from %.2f s on, the segment needs %.2f s",
                    Double(total - start) / Double(rate), Double(start) / Double(rate), Double(length) / Double(rate)))
        }
        try source.seek(toFrame: start)
        var samples = try source.read(frames: length)
        guard !samples.isEmpty else { throw InputError(source.path, "no audio: decoding produced no samples") }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw InputError(source.path, "decoding produced a non-finite sample at frame \(start + bad / channels)")
        }
        if let length, samples.count < length * channels {
            if short == .fail {
                throw InputError(
                    source.path,
                    String(
                        format: "too short: decoded %.2f s, the segment needs %.2f s",
                        Double(samples.count / channels) / Double(rate), Double(length) / Double(rate)))
            }
            let needed = min(length, Int(ShortAudioPolicy.minimumSeconds * Double(rate)))
            if short == .pad, samples.count / channels < needed {
                throw InputError(
                    source.path,
                    String(
                        format:
                            "too short: %.2f s of audio from %.2f s on, at least %.2f s are needed (to pad it with silence anyway: --pad-short)",
                        Double(samples.count / channels) / Double(rate), Double(start) / Double(rate),
                        Double(needed) / Double(rate)))
            }
            samples += [Float](repeating: 0, count: length * channels - samples.count)
        }
        return Audio(samples: samples, sampleRate: rate, channels: channels)
    }
}
