import Foundation
import MoodCore
@testable import MoodAudio
import MoodTestSupport
import Testing

@Suite struct DecoderTests {
    /// One second of 1 kHz, encoded by lame at each rate (Tests/Scripts/make_mp3_fixtures.py).
    @Test(arguments: [(22050, 2), (32000, 2), (44100, 2), (48000, 2)])
    func mp3RatesAndChannels(rate: Int, channels: Int) throws {
        let path = try fixture("sine1k-\(rate)-\(channels == 1 ? "mono" : "stereo").mp3")
        let info = try AudioFile.info(path)
        #expect(info.format == .mp3)
        #expect(info.sampleRate == rate)
        #expect(info.channels == channels)
        // lame's Info tag gives libmpg123 the encoder delay and padding: gapless length is exact.
        #expect(info.frameCount == rate, "frames: \(info.frameCount)")

        let audio = try AudioFile.decode(path)
        #expect(audio.sampleRate == 22050)
        #expect(audio.channels == 1)
        #expect(abs(audio.frameCount - 22050) <= 2, "frames at 22050 Hz: \(audio.frameCount)")
        let frequency = zeroCrossingFrequency(audio.samples[2000..<20000], sampleRate: 22050)
        #expect(abs(frequency - 1000) <= 5, "measured \(frequency) Hz")
    }

    /// Without lame's Info tag (its 16 kHz, 32 kbps frames are too small for one) nothing
    /// tells the decoder the encoder delay and padding: it keeps whole frames, 30 x 576.
    @Test func mp3WithoutInfoTagKeepsWholeFrames() throws {
        let path = try fixture("sine1k-16000-mono.mp3")
        let info = try AudioFile.info(path)
        #expect(info.sampleRate == 16000 && info.channels == 1)
        #expect(info.frameCount == 30 * 576)
        let audio = try AudioFile.decode(path)
        #expect(abs(audio.frameCount - 30 * 576 * 22050 / 16000) <= 2)
        #expect(abs(zeroCrossingFrequency(audio.samples[3000..<20000], sampleRate: 22050) - 1000) <= 5)
    }

    @Test func nativeRateDecodeKeepsTheFileRate() throws {
        let audio = try AudioFile.decode(try fixture("sine1k-48000-stereo.mp3"), sampleRate: nil, mono: false)
        #expect(audio.sampleRate == 48000)
        #expect(audio.channels == 2)
        #expect(audio.frameCount == 48000)
    }

    /// Mono is (L + R) / 2, at the file's rate and after libmpg123's 2:1 decimation alike.
    @Test func monoMixIsTheMeanOfLeftAndRight() throws {
        let path = try fixture("left440-right1500-44100.mp3")
        for rate in [44100, 22050] {
            let stereo = try AudioFile.decode(path, sampleRate: rate, mono: false)
            let mono = try AudioFile.decode(path, sampleRate: rate, mono: true)
            #expect(stereo.channels == 2 && mono.channels == 1)
            #expect(stereo.frameCount == mono.frameCount)
            var worst: Float = 0
            for i in 0..<mono.frameCount {
                worst = max(worst, abs(mono.samples[i] - (stereo.samples[2 * i] + stereo.samples[2 * i + 1]) / 2))
            }
            #expect(worst <= 1e-4, "at \(rate) Hz the largest difference is \(worst)")
            // And the channels really differ: left is 440 Hz, right 1500 Hz.
            let left = stereo.samples.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            #expect(abs(zeroCrossingFrequency(left[2000..<20000], sampleRate: rate) - 440) < 5)
        }
    }

    /// The steps fixture: second k holds 300 (k + 1) Hz, for k = 0 ..< 8.
    @Test func middleSegmentEqualsTheSliceOfTheWholeDecode() throws {
        let path = try fixture("steps-8s-22050-mono.mp3")
        let whole = try AudioFile.decode(path)
        #expect(whole.frameCount == 8 * 22050)
        let middle = try AudioFile.decode(path, segment: .middle(seconds: 2))
        #expect(middle.frameCount == 2 * 22050)
        let start = (whole.frameCount - 2 * 22050) / 2
        let slice = whole.samples[start..<start + 2 * 22050]
        let worst = zip(middle.samples, slice).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "largest difference to the whole decode: \(worst)")
        #expect(abs(zeroCrossingFrequency(middle.samples[2000..<20000], sampleRate: 22050) - 1200) < 10)
    }

    @Test func middleIsReachedBySeekingNotByDecoding() throws {
        let source = try AudioFile.open(try fixture("steps-8s-22050-mono.mp3"), sampleRate: 22050, mono: true)
        guard case .mp3(let mp3) = source else { Issue.record("expected the MP3 decoder"); return }
        try mp3.seek(toFrame: 3 * 22050)
        // 1152 samples per MPEG-1 frame at 22050 Hz would be MPEG-2: 576 per frame.
        #expect(mp3.firstFrameDecoded >= 3 * 22050 / 576 - 2, "positioned at MPEG frame \(mp3.firstFrameDecoded)")
        let samples = try mp3.read(frames: 22050)
        #expect(abs(zeroCrossingFrequency(samples[1000..<20000], sampleRate: 22050) - 1200) < 10)
    }

    @Test func firstSegmentAndEvenlySpacedCrops() throws {
        let path = try fixture("steps-8s-22050-mono.mp3")
        let first = try AudioFile.decode(path, segment: .first(seconds: 1))
        #expect(first.frameCount == 22050)
        #expect(abs(zeroCrossingFrequency(first.samples[1000..<20000], sampleRate: 22050) - 300) < 5)
        let crops = try AudioFile.crops(path, count: 3, seconds: 2)
        #expect(crops.count == 3)
        let expected = [450.0, 1350, 2250]  // crops at 0-2 s, 3-5 s, 6-8 s: the mean step of each
        for (crop, frequency) in zip(crops, expected) {
            #expect(crop.frameCount == 2 * 22050)
            let low = zeroCrossingFrequency(crop.samples[1000..<21000], sampleRate: 22050)
            let high = zeroCrossingFrequency(crop.samples[23050..<43000], sampleRate: 22050)
            #expect(abs((low + high) / 2 - frequency) < 10, "crop means \(low) and \(high) Hz")
        }
    }

    @Test func shortFilesArePaddedOrReported() throws {
        let path = try fixture("steps-8s-22050-mono.mp3")
        let padded = try AudioFile.decode(path, segment: .first(seconds: 10), short: .pad)
        #expect(padded.frameCount == 10 * 22050)
        #expect(padded.samples[(8 * 22050 + 100)...].allSatisfy { $0 == 0 })
        #expect {
            try AudioFile.decode(path, segment: .middle(seconds: 10), short: .fail)
        } throws: { error in
            (error as? InputError)?.path == path && (error as? InputError)?.problem.hasPrefix("too short") == true
        }
        #expect(throws: InvalidParameter.self) { try AudioFile.decode(path, segment: .first(seconds: -1)) }
        // Less than 3 s of audio is reported, not padded, unless asked.
        let tail = try AudioFile.decode(path, segment: .at(start: 6, seconds: 10), short: .padAny)
        #expect(tail.frameCount == 10 * 22050)
        #expect {
            try AudioFile.decode(path, segment: .at(start: 6, seconds: 10), short: .pad)
        } throws: { error in
            (error as? InputError)?.problem.contains("at least 3.00 s are needed") == true
        }
        // 4 s of audio are enough to pad.
        #expect(try AudioFile.decode(path, segment: .at(start: 4, seconds: 5), short: .pad).frameCount == 5 * 22050)
        #expect(throws: InvalidParameter.self) { try AudioFile.crops(path, count: 0, seconds: 1) }
    }

    @Test(arguments: [(1, 8), (1, 16), (1, 24), (3, 32)])
    func wavEncodings(format: Int, bits: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let left = sine(440, seconds: 1, sampleRate: 44100, amplitude: 0.6)
        let right = sine(1500, seconds: 1, sampleRate: 44100, amplitude: 0.3)
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        let url = folder.appendingPathComponent("tone.wav")
        try wavData(interleaved, channels: 2, sampleRate: 44100, format: format, bits: bits).write(to: url)

        let info = try AudioFile.info(url.path)
        #expect(info == AudioInfo(path: url.path, format: .wav, sampleRate: 44100, channels: 2, frameCount: 44100))
        let native = try AudioFile.decode(url.path, sampleRate: nil, mono: false)
        let step: Float = bits == 8 ? 1.0 / 64 : bits == 16 ? 1.0 / 16384 : 1e-6
        let worst = zip(native.samples, interleaved).map { abs($0 - $1) }.max()!
        #expect(worst <= step, "largest difference \(worst)")
        let mono = try AudioFile.decode(url.path, sampleRate: nil)
        #expect(abs(mono.samples[1000] - (interleaved[2000] + interleaved[2001]) / 2) <= step)
    }

    /// WAV at other rates goes through the windowed-sinc resampler.
    @Test(arguments: [8000, 16000, 44100, 48000])
    func wavResamplesToTheTargetRate(rate: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("a.wav")
        try wavData(sine(1000, seconds: 1, sampleRate: rate), channels: 1, sampleRate: rate).write(to: url)
        let audio = try AudioFile.decode(url.path)
        #expect(audio.frameCount == 22050)
        #expect(abs(zeroCrossingFrequency(audio.samples[1000..<21000], sampleRate: 22050) - 1000) < 2)
        // Amplitude survives (0.5), away from the edges.
        let peak = audio.samples[1000..<21000].map(abs).max()!
        #expect(abs(peak - 0.5) < 0.01, "peak \(peak)")
    }

    @Test func resamplerRemovesWhatTheNewRateCannotHold() {
        // 9 kHz at 44.1 kHz, taken to 16 kHz (Nyquist 8 kHz): must be filtered out, not aliased to 7 kHz.
        let tone = sine(9000, seconds: 0.5, sampleRate: 44100)
        let out = Resampler(from: 44100, to: 16000).resample(tone)
        let residual = out[200..<(out.count - 200)].map(abs).max()!
        #expect(residual < 0.01, "residual amplitude \(residual)")
    }
}

@Suite struct OggTests {
    /// The steps fixture as Ogg Vorbis at 44.1 kHz stereo: libvorbisfile, mono mix, resampling, seeking.
    @Test func oggDecodesResamplesAndSeeks() throws {
        let path = try fixture("steps-8s-44100-stereo.ogg")
        let info = try AudioFile.info(path)
        #expect(info.format == .ogg && info.sampleRate == 44100 && info.channels == 2)
        #expect(info.frameCount == 8 * 44100)
        let whole = try AudioFile.decode(path)
        #expect(whole.sampleRate == 22050 && whole.frameCount == 8 * 22050)
        #expect(abs(zeroCrossingFrequency(whole.samples[30000..<40000], sampleRate: 22050) - 600) < 10)
        let middle = try AudioFile.decode(path, segment: .middle(seconds: 2))
        #expect(middle.frameCount == 2 * 22050)
        let start = 3 * 22050
        let worst = zip(middle.samples, whole.samples[start..<start + 2 * 22050]).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3, "largest difference to the whole decode: \(worst)")
        #expect(abs(zeroCrossingFrequency(middle.samples[2000..<20000], sampleRate: 22050) - 1200) < 10)
    }

    @Test func brokenOggIsNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try Data(contentsOf: URL(fileURLWithPath: try fixture("steps-8s-44100-stereo.ogg")))
        let url = folder.appendingPathComponent("broken.ogg")
        try (Data("OggS".utf8) + Data(repeating: 7, count: 500)).write(to: url)
        #expect(throws: InputError.self) { try AudioFile.decode(url.path) }
        try good.prefix(3000).write(to: url)
        #expect(throws: InputError.self) { try AudioFile.decode(url.path) }
    }
}

/// WAV segments are read from the file as needed (memory for the segment, not the file)
/// and are bit-identical to the same span of the whole file converted at once.
@Suite struct WAVSegmentTests {
    @Test(arguments: [8000, 22050, 44100])
    func segmentsEqualTheWholeFilesSpan(sourceRate: Int) throws {
        let folder = try temporaryFolder("wav-segments")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("long.wav")
        var g = SeededGenerator(seed: 9)
        let left = (0..<(sourceRate * 20)).map { i in 0.5 * sin(Float(i) * 0.01) + 0.1 * g.nextNormal() }
        try wavData(left.flatMap { [$0, -$0 * 0.5] }, channels: 2, sampleRate: sourceRate).write(to: url)
        let whole = try AudioFile.decode(url.path, sampleRate: 22050, segment: .whole)
        for segment in [Segment.first(seconds: 3), .middle(seconds: 5), .at(start: 19.5, seconds: 0.5)] {
            let part = try AudioFile.decode(url.path, sampleRate: 22050, segment: segment, short: .padAny)
            let start: Int
            switch segment {
            case .middle(let s): start = (whole.samples.count - Int(s * 22050)) / 2
            case .at(let a, _): start = Int(a * 22050)
            default: start = 0
            }
            let n = min(part.samples.count, whole.samples.count - start)
            #expect(
                Array(part.samples.prefix(n)) == Array(whole.samples[start..<start + n]),
                "\(segment) at \(sourceRate) Hz")
        }
        #expect(try AudioFile.info(url.path).frameCount == sourceRate * 20)
    }
}
