import Foundation
import MoodCore
import MoodAudio
import MoodTestSupport
import Testing

/// The data root as the suite sees it (`MOODDEX_DATA_ROOT`, else `../shared/data`).
let dataRoot = Locations.dataRoot()
let fourQ = dataRoot.appendingPathComponent("4q")
let fourQPresent = FileManager.default.fileExists(atPath: fourQ.appendingPathComponent("metadata.csv").path)

@Suite struct FourQDecodingTests {
    /// All 628 real clips: 32 / 22.05 / 44.1 kHz stereo and two 16 kHz mono files.
    @Test(
        .enabled(if: fourQPresent, "4Q clips absent: set MOODDEX_DATA_ROOT to a folder holding 4q/ (see README, Data)"))
    func everyClipDecodes() throws {
        var paths = [String]()
        for quadrant in ["Q1", "Q2", "Q3", "Q4"] {
            let folder = fourQ.appendingPathComponent(quadrant)
            paths += try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".mp3") }.map { folder.appendingPathComponent($0).path }
        }
        #expect(paths.count == 628)
        let lock = NSLock()
        var failures = [String](), rates = [Int: Int](), durations = [Double]()
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            do {
                let info = try AudioFile.info(paths[i])
                let audio = try AudioFile.decode(paths[i])
                lock.lock(); rates[info.sampleRate * 10 + info.channels, default: 0] += 1;
                durations.append(audio.duration); lock.unlock()
            } catch {
                lock.lock(); failures.append("\(error)"); lock.unlock()
            }
        }
        #expect(failures.isEmpty, "\(failures.count) clips failed: \(failures.prefix(5))")
        // The mix the data README announces: 429 at 32 kHz, 170 at 22.05, 27 at 44.1 (stereo), 2 at 16 kHz mono.
        #expect(rates == [320002: 429, 220502: 170, 441002: 27, 160001: 2])
        #expect(durations.filter { $0 < 20 }.count == 2)
        #expect(durations.allSatisfy { $0 > 9 && $0 < 32 })
    }
}
