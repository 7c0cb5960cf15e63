import Foundation
import MoodSpectrogram

/// Eleven descriptors of a clip computed from its audio, standing in for the Spotify audio
/// features that do not exist for 4Q. Frames: 2048 samples (93 ms at 22050 Hz), hop 512.
///
/// - `tempo`: beats per minute, the lag in 60-200 BPM that maximises the autocorrelation
///   of the onset envelope, weighted by a log-normal prior centred on 120 BPM (as librosa).
/// - `rms_mean_db`, `rms_std_db`, `dynamic_range_db`: loudness per frame, 20 log10 RMS,
///   its mean, spread, and 95th minus 5th percentile.
/// - `centroid_hz`: the magnitude-weighted mean frequency, averaged over frames.
/// - `flatness`: geometric over arithmetic mean of the power spectrum (1 for noise, 0 for a tone).
/// - `rolloff_hz`: the frequency below which 85 % of the magnitude lies.
/// - `zcr`: zero crossings per sample.
/// - `onset_mean`: mean positive change of the log-mel spectrogram between frames (rhythmic activity).
/// - `key_strength`: the best correlation of the clip's mean chroma with the 24 rotated
///   Krumhansl-Kessler key profiles; `mode`: best major minus best minor correlation.
public enum AudioFeatures {
    public static let names = [
        "tempo", "rms_mean_db", "rms_std_db", "dynamic_range_db", "centroid_hz", "flatness",
        "rolloff_hz", "zcr", "onset_mean", "key_strength", "mode",
    ]

    static let major: [Double] = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
    static let minor: [Double] = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]

    public static func compute(_ samples: [Float], sampleRate: Int) throws -> [Double] {
        let stft = try LogMelSpectrogram(
            SpectrogramParameters(sampleRate: sampleRate, nFFT: 2048, hopLength: 512, melBands: 64))
        let power = stft.stftPower(samples)
        let mel = stft(samples)
        let bins = power.bands, frames = power.frames
        let binHz = Double(sampleRate) / 2048

        var rmsDB = [Double](), centroid = 0.0, flatness = 0.0, rolloff = 0.0
        var chroma = [Double](repeating: 0, count: 12)
        for t in 0..<frames {
            var sumPower = 0.0, sumMagnitude = 0.0, weighted = 0.0, logSum = 0.0
            for k in 0..<bins {
                let p = Double(power[k, t]), m = p.squareRoot()
                sumPower += p; sumMagnitude += m; weighted += m * Double(k) * binHz
                logSum += log(p + 1e-12)
                let f = Double(k) * binHz
                if f >= 65 && f <= 2100 {
                    let pitch = Int((12 * log2(f / 440) + 69).rounded())
                    chroma[((pitch % 12) + 12) % 12] += p
                }
            }
            // Parseval for a Hann-windowed frame: mean power ~ sum |X|^2 / (nFFT * sum w^2 / nFFT).
            rmsDB.append(10 * log10(sumPower / (2048 * 2048 * 0.375 / 2) + 1e-10))
            centroid += sumMagnitude > 0 ? weighted / sumMagnitude : 0
            let arithmetic = sumPower / Double(bins)
            flatness += arithmetic > 0 ? exp(logSum / Double(bins)) / arithmetic : 0
            var running = 0.0
            for k in 0..<bins {
                running += Double(power[k, t]).squareRoot()
                if running >= 0.85 * sumMagnitude { rolloff += Double(k) * binHz; break }
            }
        }
        let n = Double(frames)
        let rmsMean = rmsDB.reduce(0, +) / n
        let rmsStd = (rmsDB.map { ($0 - rmsMean) * ($0 - rmsMean) }.reduce(0, +) / n).squareRoot()
        let sorted = rmsDB.sorted()
        let range = sorted[Int(0.95 * Double(sorted.count - 1))] - sorted[Int(0.05 * Double(sorted.count - 1))]

        var crossings = 0
        for i in 1..<samples.count where (samples[i - 1] < 0) != (samples[i] < 0) { crossings += 1 }
        let zcr = Double(crossings) / Double(max(samples.count - 1, 1))

        // Onset envelope: mean positive log-mel increase per frame.
        var onset = [Double](repeating: 0, count: mel.frames)
        for t in 1..<mel.frames {
            var s = 0.0
            for b in 0..<mel.bands { s += max(0, Double(mel[b, t] - mel[b, t - 1])) }
            onset[t] = s / Double(mel.bands)
        }
        let onsetMean = onset.reduce(0, +) / Double(onset.count)
        let tempo = estimateTempo(onset, framesPerSecond: Double(sampleRate) / 512)

        let total = chroma.reduce(0, +)
        let profile = chroma.map { total > 0 ? $0 / total : 0 }
        var bestMajor = -1.0, bestMinor = -1.0
        for shift in 0..<12 {
            let rotatedMajor = (0..<12).map { major[($0 - shift + 12) % 12] }
            let rotatedMinor = (0..<12).map { minor[($0 - shift + 12) % 12] }
            bestMajor = max(bestMajor, correlation(profile, rotatedMajor))
            bestMinor = max(bestMinor, correlation(profile, rotatedMinor))
        }
        return [
            tempo, rmsMean, rmsStd, range, centroid / n, flatness / n, rolloff / n, zcr, onsetMean,
            max(bestMajor, bestMinor), bestMajor - bestMinor,
        ]
    }

    static func estimateTempo(_ onset: [Double], framesPerSecond: Double) -> Double {
        let mean = onset.reduce(0, +) / Double(onset.count)
        let x = onset.map { $0 - mean }
        var best = 120.0, bestScore = -Double.infinity
        let minLag = Int(framesPerSecond * 60 / 200), maxLag = Int(framesPerSecond * 60 / 60)
        for lag in max(1, minLag)...min(maxLag, x.count - 1) {
            var s = 0.0
            for t in lag..<x.count { s += x[t] * x[t - lag] }
            let bpm = 60 * framesPerSecond / Double(lag)
            let prior = exp(-0.5 * pow(log2(bpm / 120), 2))
            if s * prior > bestScore { bestScore = s * prior; best = bpm }
        }
        return best
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var num = 0.0, da = 0.0, db = 0.0
        for i in a.indices {
            num += (a[i] - ma) * (b[i] - mb); da += (a[i] - ma) * (a[i] - ma); db += (b[i] - mb) * (b[i] - mb)
        }
        return da > 0 && db > 0 ? num / (da * db).squareRoot() : 0
    }
}
