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
    // Raw buffers, allocated once: the per-frame loop touches no Swift array storage.
    private let frame: UnsafeMutablePointer<Float>
    private let spectrum: UnsafeMutablePointer<fftwf_complex>
    private let power: UnsafeMutablePointer<Float>
    private let window: UnsafeMutablePointer<Float>
    /// The filterbank flattened: filter m has `melLength[m]` weights from `melWeights + melOffset[m]`,
    /// applied to bins from `melFirstBin[m]`.
    private let melWeights: UnsafeMutablePointer<Float>
    private let melOffset: UnsafeMutablePointer<Int>
    private let melFirstBin: UnsafeMutablePointer<Int>
    private let melLength: UnsafeMutablePointer<Int>

    public init(_ parameters: SpectrogramParameters = SpectrogramParameters()) throws {
        try parameters.validate()
        self.parameters = parameters
        filterbank = MelFilterbank(parameters)
        plan = FFTPlans.realForward(size: parameters.nFFT)
        let n = parameters.nFFT, bins = parameters.bins, bands = parameters.melBands
        frame = fftwf_alloc_real(n)!
        spectrum = fftwf_alloc_complex(bins)!
        power = .allocate(capacity: bins)
        window = .allocate(capacity: n)
        for i in 0..<n { window[i] = Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n))) }
        let total = filterbank.filters.reduce(0) { $0 + $1.weights.count }
        melWeights = .allocate(capacity: max(total, 1))
        melOffset = .allocate(capacity: bands)
        melFirstBin = .allocate(capacity: bands)
        melLength = .allocate(capacity: bands)
        var offset = 0
        for (m, filter) in filterbank.filters.enumerated() {
            melOffset[m] = offset
            melFirstBin[m] = filter.firstBin
            melLength[m] = filter.weights.count
            for w in filter.weights { melWeights[offset] = w; offset += 1 }
        }
    }

    deinit {
        fftwf_free(frame)
        fftwf_free(spectrum)
        power.deallocate()
        window.deallocate()
        melWeights.deallocate()
        melOffset.deallocate()
        melFirstBin.deallocate()
        melLength.deallocate()
    }

    /// The most values one spectrogram may hold (1 GiB of Float): beyond it a tiny hop over
    /// long audio is refused with a clear error instead of an allocation that aborts.
    public static let maximumValues = 1 << 28

    /// Log-mel spectrogram (dB) of mono audio; its rate must be `parameters.sampleRate`.
    public func callAsFunction(_ audio: Audio) throws -> Spectrogram {
        guard audio.channels == 1 else {
            throw InvalidParameter("audio.channels", audio.channels, "must be 1 (mix to mono first)")
        }
        guard audio.sampleRate == parameters.sampleRate else {
            throw InvalidParameter(
                "audio.sampleRate", audio.sampleRate, "must equal the spectrogram's sampleRate \(parameters.sampleRate)"
            )
        }
        let frames = parameters.frameCount(forSamples: audio.samples.count)
        guard frames <= Self.maximumValues / parameters.melBands else {
            throw InvalidParameter(
                "hopLength", parameters.hopLength,
                String(
                    format:
                        "gives %d mel bands x %d frames for %.1f s of audio, more than %d values: use a longer hop or a shorter segment",
                    parameters.melBands, frames, audio.duration, Self.maximumValues))
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
    ///
    /// Frames go eight at a time: their power spectra sit side by side (`bins x 8`), so each
    /// filter weight multiplies eight frames in one SIMD operation and each band's eight
    /// results are stored contiguously in its output row.
    public func melPower(_ samples: [Float]) -> Spectrogram {
        let frames = parameters.frameCount(forSamples: samples.count)
        let bands = parameters.melBands, bins = parameters.bins
        var values = [Float](repeating: 0, count: bands * frames)
        let block = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: bins)
        defer { block.deallocate() }
        samples.withUnsafeBufferPointer { x in
            values.withUnsafeMutableBufferPointer { out in
                var t0 = 0
                while t0 < frames {
                    let width = min(8, frames - t0)
                    block.update(repeating: SIMD8<Float>(), count: bins)
                    block.withMemoryRebound(to: Float.self, capacity: 8 * bins) { lanes in
                        for j in 0..<width {
                            powerSpectrum(x, frame: t0 + j)
                            for k in 0..<bins { lanes[8 * k + j] = power[k] }
                        }
                    }
                    for m in 0..<bands {
                        let w = melWeights + melOffset[m], p = block + melFirstBin[m]
                        var sum = SIMD8<Float>()
                        for j in 0..<melLength[m] { sum += w[j] * p[j] }
                        let row = out.baseAddress! + m * frames + t0
                        if width == 8 {
                            UnsafeMutableRawPointer(row).storeBytes(of: sum, as: SIMD8<Float>.self)
                        } else {
                            for j in 0..<width { row[j] = sum[j] }
                        }
                    }
                    t0 += 8
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
        samples.withUnsafeBufferPointer { x in
            for t in 0..<frames {
                powerSpectrum(x, frame: t)
                for k in 0..<bins { values[k * frames + t] = power[k] }
            }
        }
        return Spectrogram(values: values, bands: bins, frames: frames)
    }

    /// Windows frame `t` into the FFT buffer, transforms it, and leaves |X|^2 in `power`.
    @inline(__always)
    private func powerSpectrum(_ x: UnsafeBufferPointer<Float>, frame t: Int) {
        let n = parameters.nFFT
        let start = t * parameters.hopLength - n / 2
        if start >= 0 && start + n <= x.count {
            let source = x.baseAddress! + start
            for i in 0..<n { frame[i] = window[i] * source[i] }
        } else {
            for i in 0..<n { frame[i] = window[i] * padded(x, start + i) }
        }
        fftwf_execute_dft_r2c(plan, frame, spectrum)
        let bins = parameters.bins
        spectrum.withMemoryRebound(to: Float.self, capacity: 2 * bins) { c in
            for k in 0..<bins { power[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1] }
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
    public static func powerToDB(
        _ values: inout [Float], reference: SpectrogramParameters.Reference,
        amin: Float, topDB: Float?
    ) {
        guard !values.isEmpty else { return }
        let ref: Float = reference == .one ? 1 : values.max()!
        let offset = 10 * log10(max(amin, ref))
        var peak = -Float.infinity
        values.withUnsafeMutableBufferPointer { v in
            let count = v.count, whole = count / 8 * 8
            let floor = SIMD8<Float>(repeating: amin)
            var peaks = SIMD8<Float>(repeating: -.infinity)
            var i = 0
            while i < whole {
                let address = UnsafeMutableRawPointer(v.baseAddress! + i)
                let x = address.loadUnaligned(as: SIMD8<Float>.self)
                let db = 10 * log10Fast(x.replacing(with: floor, where: .!(x .>= floor))) - offset  // NaN-safe floor
                address.storeBytes(of: db, as: SIMD8<Float>.self)
                peaks = pointwiseMax(peaks, db)
                i += 8
            }
            peak = peaks.max()
            while i < count {
                let db = 10 * log10(max(amin, v[i])) - offset
                v[i] = db
                peak = max(peak, db)
                i += 1
            }
        }
        if let topDB {
            let floor = peak - topDB
            for i in values.indices where values[i] < floor { values[i] = floor }
        }
    }
}
