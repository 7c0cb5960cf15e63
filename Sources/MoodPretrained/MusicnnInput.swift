import Foundation
import MoodAudio
import MoodCore
import MoodSpectrogram

/// musicnn's input, as its `extractor.py` makes it: 16 kHz mono; librosa's mel power
/// spectrogram (nFFT 512, hop 256, 96 Slaney bands up to 8 kHz, centred, reflect padding);
/// then `log10(10000 x + 1)`, rounded through Float16 as the original does (it casts the
/// spectrogram to float16 before the logarithm, see `compress(_:)`); cut into patches of 187 frames (3 s).
///
/// A patch is `[187, 96]` with frames as rows (time is the network's height, frequency its width).
public enum MusicnnInput {
    public static let sampleRate = 16000
    public static let patchFrames = 187
    public static let melBands = 96
    public static let parameters = SpectrogramParameters(
        sampleRate: sampleRate, nFFT: 512, hopLength: 256, melBands: melBands)
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

    /// `log10(10000 x + 1)` of the power rounded to Float16, as musicnn's extractor computes it
    /// under NumPy 1.x (which it was written for): the float16 array times the integer 10000
    /// comes out float32, so only the power itself is rounded. (NumPy 2 keeps the product in
    /// float16, where it overflows to infinity above a power of 6.55, as in 623 of the 628 4Q
    /// clips; the reference fixtures are made with the 1.x rule.)
    @inline(__always)
    static func compress(_ power: Float) -> Float {
        log10(10000 * Float(Float16(power)) + 1)
    }

    /// Changes whenever the input recipe does, so caches of derived features are recomputed.
    public static let recipeVersion = "numpy1-float16-power-unpadded"

    /// Non-overlapping 187-frame patches `[count, 187, 96]` (the tagger's cut; a remainder
    /// shorter than a patch is dropped). A clip shorter than one patch has no patch.
    public static func patches(_ logMel: (values: [Float], frames: Int)) -> (values: [Float], count: Int) {
        let count = logMel.frames / patchFrames
        return (Array(logMel.values.prefix(count * patchFrames * melBands)), count)
    }

    /// A log-mel shorter than one patch repeated up to a patch, as musicnn repeats short audio;
    /// a longer one unchanged.
    public static func repeatedToOnePatch(_ logMel: (values: [Float], frames: Int)) -> (values: [Float], frames: Int) {
        guard logMel.frames < patchFrames, !logMel.values.isEmpty else { return logMel }
        let values = (0..<(patchFrames * melBands)).map { logMel.values[$0 % logMel.values.count] }
        return (values, patchFrames)
    }

    /// One patch starting at `frame` (for random crops in training).
    public static func patch(_ logMel: (values: [Float], frames: Int), at frame: Int) -> [Float] {
        precondition(
            frame >= 0 && frame + patchFrames <= logMel.frames, "patch at \(frame) outside \(logMel.frames) frames")
        return Array(logMel.values[(frame * melBands)..<((frame + patchFrames) * melBands)])
    }

    /// Decodes an audio file (MP3, WAV, Ogg) to 16-kHz mono and computes its compressed log-mel.
    /// A file shorter than the segment is taken whole, never padded with silence: silent
    /// windows would be averaged into its tags (musicnn repeats a clip shorter than a patch,
    /// which ``FrontEndMaps`` and ``ClipEmbeddings`` do).
    public static func logMel(file path: String, segment: Segment = .whole, with computer: LogMelSpectrogram) throws
        -> (values: [Float], frames: Int)
    {
        var segment = segment
        switch segment {
        case .first(let s), .middle(let s):
            if try AudioFile.info(path).duration <= s { segment = .whole }
        default: break
        }
        let audio = try AudioFile.decode(path, sampleRate: sampleRate, mono: true, segment: segment)
        return logMel(audio.samples, with: computer)
    }
}
