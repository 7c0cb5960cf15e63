import CFFTW
import Foundation
import MoodAudio
import MoodCore

/// Computes log-mel spectrograms as librosa's
/// `power_to_db(melspectrogram(y, sr, n_fft, hop_length, n_mels, fmin, fmax, pad_mode), ref, amin, top_db)`.
///
/// For frame t (centred: the signal is extended by nFFT/2 samples at each end),
/// `X_t[k] = sum_n w[n] x[t*hop + n - nFFT/2] e^{-2 pi i k n / nFFT}` with the periodic
/// Hann window `w[n] = 0.5 - 0.5 cos(2 pi n / nFFT)`; power `P = |X|^2`;
/// mel power `M[m, t] = sum_k W[m, k] P[k, t]` (sparse Slaney filters);
/// `dB = 10 log10(max(amin, M)) - 10 log10(max(amin, ref))`, floored at `max(dB) - topDB`.
///
/// Not thread-safe: it owns its FFT buffers. Make one per thread; they are cheap
/// (the FFTW plan and the filterbank are shared or small).
public final class LogMelSpectrogram {
    public let parameters: SpectrogramParameters
    public let filterbank: MelFilterbank
    private let plan: OpaquePointer
    private let frame: UnsafeMutablePointer<Float>
    private let spectrum: UnsafeMutablePointer<fftwf_complex>
    private let window: [Float]
    private var power: [Float]

    public init(_ parameters: SpectrogramParameters = SpectrogramParameters()) throws {
        try parameters.validate()
        self.parameters = parameters
        filterbank = MelFilterbank(parameters)
        plan = FFTPlans.realForward(size: parameters.nFFT)
        frame = fftwf_alloc_real(parameters.nFFT)!
        spectrum = fftwf_alloc_complex(parameters.bins)!
        let n = parameters.nFFT
        window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
        power = [Float](repeating: 0, count: parameters.bins)
    }

    deinit {
        fftwf_free(frame)
        fftwf_free(spectrum)
    }

    /// Log-mel spectrogram (dB) of mono audio; its rate must be `parameters.sampleRate`.
    public func callAsFunction(_ audio: Audio) throws -> Spectrogram {
        guard audio.channels == 1 else { throw InvalidParameter("audio.channels", audio.channels, "must be 1 (mix to mono first)") }
        guard audio.sampleRate == parameters.sampleRate else {
            throw InvalidParameter("audio.sampleRate", audio.sampleRate, "must equal the spectrogram's sampleRate \(parameters.sampleRate)")
        }
        return self(audio.samples)
    }

    /// Log-mel spectrogram (dB) of mono samples at `parameters.sampleRate`.
    public func callAsFunction(_ samples: [Float]) -> Spectrogram {
        var mel = melPower(samples)
        Self.powerToDB(&mel.values, reference: parameters.reference, amin: parameters.amin, topDB: parameters.topDB)
        return mel
    }

    /// Mel power spectrogram (before dB), `melBands x frames`.
    public func melPower(_ samples: [Float]) -> Spectrogram {
        let frames = parameters.frameCount(forSamples: samples.count)
        let bands = parameters.melBands
        var values = [Float](repeating: 0, count: bands * frames)
        values.withUnsafeMutableBufferPointer { out in
            for t in 0..<frames {
                powerSpectrum(samples, frame: t)
                power.withUnsafeBufferPointer { p in
                    for (m, filter) in filterbank.filters.enumerated() {
                        var sum: Float = 0
                        filter.weights.withUnsafeBufferPointer { w in
                            for j in 0..<w.count { sum += w[j] * p[filter.firstBin + j] }
                        }
                        out[m * frames + t] = sum
                    }
                }
            }
        }
        return Spectrogram(values: values, bands: bands, frames: frames)
    }

    /// Power spectrogram |STFT|^2, `bins x frames` (for tests and linear-frequency pictures).
    public func stftPower(_ samples: [Float]) -> Spectrogram {
        let frames = parameters.frameCount(forSamples: samples.count)
        let bins = parameters.bins
        var values = [Float](repeating: 0, count: bins * frames)
        for t in 0..<frames {
            powerSpectrum(samples, frame: t)
            for k in 0..<bins { values[k * frames + t] = power[k] }
        }
        return Spectrogram(values: values, bands: bins, frames: frames)
    }

    /// Windows frame `t` into the FFT buffer, transforms it, and leaves |X|^2 in `power`.
    private func powerSpectrum(_ samples: [Float], frame t: Int) {
        let n = parameters.nFFT
        let start = t * parameters.hopLength - n / 2
        samples.withUnsafeBufferPointer { x in
            window.withUnsafeBufferPointer { w in
                if start >= 0 && start + n <= x.count {
                    for i in 0..<n { frame[i] = w[i] * x[start + i] }
                } else {
                    for i in 0..<n { frame[i] = w[i] * padded(x, start + i) }
                }
            }
        }
        fftwf_execute_dft_r2c(plan, frame, spectrum)
        spectrum.withMemoryRebound(to: Float.self, capacity: 2 * parameters.bins) { c in
            for k in 0..<parameters.bins { power[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1] }
        }
    }

    /// The signal extended beyond its ends by the pad mode (numpy's `reflect` or zeros).
    private func padded(_ x: UnsafeBufferPointer<Float>, _ i: Int) -> Float {
        if i >= 0 && i < x.count { return x[i] }
        switch parameters.padMode {
        case .constant:
            return 0
        case .reflect:
            let n = x.count
            guard n > 1 else { return n == 1 ? x[0] : 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return x[j < n ? j : period - j]
        }
    }

    /// Power to decibels in place: `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`,
    /// then floored at `max - topDB` (librosa's `power_to_db`).
    public static func powerToDB(_ values: inout [Float], reference: SpectrogramParameters.Reference,
                                 amin: Float, topDB: Float?) {
        guard !values.isEmpty else { return }
        let ref: Float = reference == .one ? 1 : values.max()!
        let offset = 10 * log10(max(amin, ref))
        var peak = -Float.infinity
        for i in values.indices {
            let db = 10 * log10(max(amin, values[i])) - offset
            values[i] = db
            peak = max(peak, db)
        }
        if let topDB {
            let floor = peak - topDB
            for i in values.indices where values[i] < floor { values[i] = floor }
        }
    }
}
