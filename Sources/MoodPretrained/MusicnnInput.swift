import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram

/// musicnn's input, as its `extractor.py` makes it: 16 kHz mono; librosa's mel power
/// spectrogram (nFFT 512, hop 256, 96 Slaney bands up to 8 kHz, centred, reflect padding);
/// then `log10(10000 x + 1)`, rounded through Float16 as the original does (it casts the
/// spectrogram to float16 before the logarithm); cut into patches of 187 frames (3 s).
///
/// A patch is `[187, 96]` with frames as rows (time is the network's height, frequency its width).
public enum MusicnnInput {
    public static let sampleRate = 16000
    public static let patchFrames = 187
    public static let melBands = 96
    public static let parameters = SpectrogramParameters(sampleRate: sampleRate, nFFT: 512, hopLength: 256, melBands: melBands)
    /// Seconds of audio in one patch: 187 frames of 256 samples at 16 kHz.
    public static let patchSeconds = Double(patchFrames * 256) / Double(sampleRate)

    /// The compressed log-mel of mono 16-kHz samples, `frames x 96`, row-major (frame by frame).
    public static func logMel(_ samples: [Float], with computer: LogMelSpectrogram) -> (values: [Float], frames: Int) {
        let mel = computer.melPower(samples)
        var rows = [Float](repeating: 0, count: mel.values.count)
        for b in 0..<mel.bands {
            for t in 0..<mel.frames { rows[t * mel.bands + b] = compress(mel.values[b * mel.frames + t]) }
        }
        return (rows, mel.frames)
    }

    /// `log10(10000 x + 1)` step by step in Float16, as numpy evaluates it on musicnn's
    /// float16 array. Where `10000 x` passes Float16's largest value (65504, a mel power above
    /// 6.55: loud music), the original tagger gets infinity and its network NaN; MoodDex
    /// computes those values in Float32, as musicnn's training pipeline (`logC`) did.
    @inline(__always)
    static func compress(_ power: Float) -> Float {
        let x = Float(Float16(power))
        guard 10000 * x < 65504 else { return log10(10000 * power + 1) }
        let scaled = Float(Float16(10000 * x))
        let shifted = Float(Float16(scaled + 1))
        return Float(Float16(log10(shifted)))
    }

    /// Non-overlapping 187-frame patches `[count, 187, 96]` (the tagger's cut; a remainder
    /// shorter than a patch is dropped). A clip shorter than one patch has no patch.
    public static func patches(_ logMel: (values: [Float], frames: Int)) -> (values: [Float], count: Int) {
        let count = logMel.frames / patchFrames
        return (Array(logMel.values.prefix(count * patchFrames * melBands)), count)
    }

    /// One patch starting at `frame` (for random crops in training).
    public static func patch(_ logMel: (values: [Float], frames: Int), at frame: Int) -> [Float] {
        precondition(frame >= 0 && frame + patchFrames <= logMel.frames, "patch at \(frame) outside \(logMel.frames) frames")
        return Array(logMel.values[(frame * melBands)..<((frame + patchFrames) * melBands)])
    }

    /// Decodes an audio file (MP3, WAV, Ogg) to 16-kHz mono and computes its compressed log-mel.
    public static func logMel(file path: String, segment: Segment = .whole, with computer: LogMelSpectrogram) throws -> (values: [Float], frames: Int) {
        let audio = try AudioFile.decode(path, sampleRate: sampleRate, mono: true, segment: segment)
        return logMel(audio.samples, with: computer)
    }
}
