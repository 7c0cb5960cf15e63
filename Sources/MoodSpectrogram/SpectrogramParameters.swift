import MoodCore

/// The parameters of a log-mel spectrogram, named as librosa names them.
///
/// Defaults: 22050 Hz, `nFFT` 1024, `hopLength` 512, 96 Slaney mel bands from 0 Hz to
/// the Nyquist rate, power 2, dB relative to 1.0 clipped at 80 dB below the peak,
/// centred frames with reflect padding. A 30 s clip gives 96 x 1292.
public struct SpectrogramParameters: Hashable, Codable, Sendable, CustomStringConvertible {
    /// How the signal is extended by `nFFT / 2` samples at each end for centred frames.
    public enum PadMode: String, Codable, Sendable, CaseIterable {
        /// Mirror without repeating the edge sample (numpy's `reflect`).
        case reflect
        /// Zeros (librosa >= 0.10's default for `stft`).
        case constant
    }

    /// What 0 dB means.
    public enum Reference: String, Codable, Sendable, CaseIterable {
        /// Power 1.0 (librosa's `ref=1.0`).
        case one
        /// The spectrogram's own peak (librosa's `ref=np.max`): the loudest cell is 0 dB.
        case max
    }

    public var sampleRate: Int = 22050
    public var nFFT: Int = 1024
    public var hopLength: Int = 512
    public var melBands: Int = 96
    public var fMin: Double = 0
    /// Upper edge of the mel filterbank; nil means `sampleRate / 2`.
    public var fMax: Double? = nil
    /// Dynamic range kept below the peak, in dB; nil keeps everything.
    public var topDB: Float? = 80
    public var padMode: PadMode = .reflect
    public var reference: Reference = .one
    /// Floor applied to power before the logarithm (librosa's `amin`).
    public var amin: Float = 1e-10

    public init(
        sampleRate: Int = 22050, nFFT: Int = 1024, hopLength: Int = 512, melBands: Int = 96,
        fMin: Double = 0, fMax: Double? = nil, topDB: Float? = 80,
        padMode: PadMode = .reflect, reference: Reference = .one, amin: Float = 1e-10
    ) {
        self.sampleRate = sampleRate
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.melBands = melBands
        self.fMin = fMin
        self.fMax = fMax
        self.topDB = topDB
        self.padMode = padMode
        self.reference = reference
        self.amin = amin
    }

    /// The upper filterbank edge actually used.
    public var effectiveFMax: Double { fMax ?? Double(sampleRate) / 2 }
    /// FFT bins: `nFFT / 2 + 1`.
    public var bins: Int { nFFT / 2 + 1 }

    /// Frames for `sampleCount` samples with centred framing: `1 + sampleCount / hopLength`.
    public func frameCount(forSamples sampleCount: Int) -> Int { 1 + sampleCount / hopLength }

    /// Throws `InvalidParameter` naming the first value out of range.
    public func validate() throws {
        guard (1000...384_000).contains(sampleRate) else {
            throw InvalidParameter("sampleRate", sampleRate, "must be between 1000 and 384000 Hz")
        }
        guard nFFT >= 16, nFFT <= 65536, nFFT % 2 == 0 else {
            throw InvalidParameter("nFFT", nFFT, "must be an even number from 16 to 65536")
        }
        guard hopLength >= 1 else { throw InvalidParameter("hopLength", hopLength, "must be at least 1") }
        guard melBands >= 1, melBands <= bins else {
            throw InvalidParameter("melBands", melBands, "must be from 1 to nFFT/2+1 = \(bins)")
        }
        guard fMin.isFinite, fMin >= 0 else { throw InvalidParameter("fMin", fMin, "must be 0 Hz or more") }
        let top = effectiveFMax
        guard top.isFinite, top > fMin, top <= Double(sampleRate) / 2 else {
            throw InvalidParameter(
                "fMax", top,
                "must lie above fMin (\(fMin) Hz) and at most at the Nyquist rate (\(Double(sampleRate) / 2) Hz)")
        }
        if let topDB {
            guard topDB.isFinite, topDB > 0 else {
                throw InvalidParameter("topDB", topDB, "must be a positive number of dB")
            }
        }
        guard amin.isFinite, amin > 0 else { throw InvalidParameter("amin", amin, "must be positive") }
    }

    /// Every parameter in one canonical string: part of each cache key.
    public var description: String {
        "sampleRate=\(sampleRate) nFFT=\(nFFT) hopLength=\(hopLength) melBands=\(melBands) fMin=\(fMin) fMax=\(effectiveFMax) "
            + "topDB=\(topDB.map { "\($0)" } ?? "none") pad=\(padMode.rawValue) ref=\(reference.rawValue) amin=\(amin)"
    }
}
