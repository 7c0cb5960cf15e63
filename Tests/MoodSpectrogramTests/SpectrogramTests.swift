import Foundation
import MoodAudio
import MoodCore
@testable import MoodSpectrogram
import Testing

@Suite struct SpectrogramTests {
    @Test func thirtySecondsGiveNinetySixByTwelveNinetyTwo() throws {
        let spectrogram = try LogMelSpectrogram()(
            Audio(samples: [Float](repeating: 0.1, count: 30 * 22050), sampleRate: 22050))
        #expect(spectrogram.bands == 96)
        #expect(spectrogram.frames == 1292)
    }

    /// FFTW's power spectrum against a plain DFT computed in Double.
    /// A hop of 1 over minutes of audio would need gigabytes: a clear error instead.
    @Test func tooManyValuesAreRefused() throws {
        var parameters = SpectrogramParameters()
        parameters.hopLength = 1
        let audio = Audio(samples: [Float](repeating: 0.1, count: 3_000_000), sampleRate: 22050)
        #expect(throws: InvalidParameter.self) { try LogMelSpectrogram(parameters)(audio) }
    }

    @Test func fftMatchesNaiveDFT() throws {
        let parameters = SpectrogramParameters(nFFT: 256, hopLength: 128)
        let samples = TestSignal.samples(length: 3000)
        let ours = try LogMelSpectrogram(parameters).stftPower(samples)
        let n = parameters.nFFT
        let window = (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)) }
        var worst = 0.0, peak = 0.0
        for t in 0..<ours.frames {
            // Reflect-padded frame t, as numpy's np.pad(mode="reflect") builds it.
            let frame: [Double] = (0..<n).map { i in
                var j = t * parameters.hopLength + i - n / 2
                if j < 0 { j = -j }
                if j >= samples.count { j = 2 * (samples.count - 1) - j }
                return Double(samples[j]) * window[i]
            }
            for k in 0..<parameters.bins {
                var re = 0.0, im = 0.0
                for (i, x) in frame.enumerated() {
                    let angle = -2 * Double.pi * Double(k * i) / Double(n)
                    re += x * cos(angle); im += x * sin(angle)
                }
                let power = re * re + im * im
                peak = max(peak, power)
                worst = max(worst, abs(Double(ours[k, t]) - power))
            }
        }
        #expect(worst <= 1e-5 * peak, "largest power difference \(worst), peak power \(peak)")
    }

    /// Each triangle peaks at the FFT bin nearest its centre frequency, give or take one bin.
    @Test func melFilterPeaksSitOnTheirCentres() {
        let parameters = SpectrogramParameters()
        let bank = MelFilterbank(parameters)
        let centres = MelFilterbank.melFrequencies(count: parameters.melBands + 2, fMin: 0, fMax: 11025)
        let binWidth = Double(parameters.sampleRate) / Double(parameters.nFFT)
        for (i, filter) in bank.filters.enumerated() {
            let peakBin = filter.firstBin + filter.weights.indices.max { filter.weights[$0] < filter.weights[$1] }!
            let expected = (centres[i + 1] / binWidth).rounded()
            #expect(
                abs(Double(peakBin) - expected) <= 1,
                "filter \(i): peak at bin \(peakBin), centre \(centres[i + 1]) Hz = bin \(expected)")
        }
    }

    @Test func slaneyScaleRoundTripsAndBendsAtOneKilohertz() {
        #expect(abs(MelFilterbank.hzToMel(1000) - 15) < 1e-12)
        #expect(abs(MelFilterbank.hzToMel(500) - 7.5) < 1e-12)
        for hz in [0.0, 100, 999, 1000, 4321, 11025] {
            #expect(abs(MelFilterbank.melToHz(MelFilterbank.hzToMel(hz)) - hz) < 1e-9)
        }
    }

    @Test func topDBFloorsAndRefMaxZeroesThePeak() throws {
        var values: [Float] = [1, 1e-3, 1e-12, 100]
        LogMelSpectrogram.powerToDB(&values, reference: .max, amin: 1e-10, topDB: 80)
        #expect(values == [-20, -50, -80, 0])
    }

    @Test func badParametersAreNamed() {
        #expect(throws: InvalidParameter("nFFT", 1000 + 1, "must be an even number from 16 to 65536")) {
            try LogMelSpectrogram(SpectrogramParameters(nFFT: 1001))
        }
        #expect(throws: InvalidParameter.self) { try LogMelSpectrogram(SpectrogramParameters(melBands: 0)) }
        #expect(throws: InvalidParameter.self) { try LogMelSpectrogram(SpectrogramParameters(fMax: 20000)) }
        #expect(throws: InvalidParameter.self) {
            try LogMelSpectrogram()(Audio(samples: [0, 0], sampleRate: 44100))
        }
    }

    /// Plans are made under a lock: many threads at once give identical results.
    @Test func concurrentComputationIsIdentical() throws {
        let samples = TestSignal.samples(length: 20000)
        let expected = try LogMelSpectrogram(SpectrogramParameters(nFFT: 2048, hopLength: 300))(samples)
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let nFFT = [2048, 4096, 64, 128][i % 4]
            let computer = try! LogMelSpectrogram(SpectrogramParameters(nFFT: nFFT, hopLength: 300, melBands: 32))
            _ = computer(samples)
            results[i] = try! LogMelSpectrogram(SpectrogramParameters(nFFT: 2048, hopLength: 300))(samples) == expected
        }
        #expect(results.allSatisfy { $0 })
    }

    @Test func tinyInputsDoNotCrash() throws {
        let computer = try LogMelSpectrogram()
        #expect(computer([]).frames == 1)
        #expect(computer([0.5]).frames == 1)
        #expect(computer([Float](repeating: 0.2, count: 700)).frames == 2)
    }
}
