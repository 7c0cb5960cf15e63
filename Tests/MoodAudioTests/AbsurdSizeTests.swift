import Foundation
import MoodAudio
import MoodCore
import MoodTestSupport
import Testing

/// Absurd sizes are refused with a clear error before anything is allocated.
@Suite struct AbsurdSizeTests {
    @Test(arguments: [1e12, 1e20, 3600.5])
    func absurdSegmentLengthsAreRefused(seconds: Double) throws {
        let path = try fixture("sine1k-16000-mono.mp3")
        for segment in [Segment.first(seconds: seconds), .middle(seconds: seconds), .at(start: 0, seconds: seconds)] {
            #expect(throws: InvalidParameter.self) { try AudioFile.decode(path, segment: segment) }
        }
        #expect(throws: InvalidParameter.self) { try AudioFile.crops(path, count: 3, seconds: seconds) }
    }

    @Test func anHourAtAHighRateIsRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("tone.wav").path
        try wavData(sine(440, seconds: 4, sampleRate: 48000), channels: 1, sampleRate: 48000).write(
            to: URL(fileURLWithPath: path))
        #expect(throws: InvalidParameter("seconds", 3600.0, "must be at most 699 at 384000 Hz")) {
            try AudioFile.decode(path, sampleRate: 384_000, segment: .first(seconds: 3600), short: .padAny)
        }
    }

    @Test func absurdStartsAndCropCountsAreRefused() throws {
        let path = try fixture("sine1k-16000-mono.mp3")
        #expect(throws: InvalidParameter.self) { try AudioFile.decode(path, segment: .at(start: 1e300, seconds: 1)) }
        #expect(throws: InvalidParameter.self) { try AudioFile.crops(path, count: Int.max, seconds: 1) }
    }
}
