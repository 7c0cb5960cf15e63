import Foundation
import MoodAudio
import MoodCore
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

    @Test func absurdStartsAndCropCountsAreRefused() throws {
        let path = try fixture("sine1k-16000-mono.mp3")
        #expect(throws: InvalidParameter.self) { try AudioFile.decode(path, segment: .at(start: 1e300, seconds: 1)) }
        #expect(throws: InvalidParameter.self) { try AudioFile.crops(path, count: Int.max, seconds: 1) }
    }
}
