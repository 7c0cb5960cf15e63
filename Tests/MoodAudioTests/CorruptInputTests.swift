import Foundation
import MoodCore
import MoodAudio
import MoodTestSupport
import Testing

/// Checks that `body` throws an InputError for `item` whose message names the file and the reason.
func expectInputError(_ item: CorruptInputCorpus.Case, _ entry: String, _ body: () throws -> Any) {
    do {
        _ = try body()
        Issue.record("\(entry)(\(item.name)) returned instead of failing")
    } catch let error as InputError {
        #expect(error.path == item.path, "\(entry)(\(item.name)): error names \(error.path)")
        #expect(
            error.problem.lowercased().contains(item.reason.lowercased()),
            "\(entry)(\(item.name)): \"\(error.problem)\" should mention \"\(item.reason)\"")
    } catch {
        Issue.record("\(entry)(\(item.name)) threw \(type(of: error)): \(error)")
    }
}

@Suite struct CorruptInputTests {
    @Test func everyEntryPointRejectsEveryBadFile() throws {
        let corpus = try CorruptInputCorpus(
            goodMP3: Data(contentsOf: URL(fileURLWithPath: try fixture("steps-8s-22050-mono.mp3"))))
        defer { try? FileManager.default.removeItem(at: corpus.folder) }
        for item in corpus.cases {
            expectInputError(item, "info") { try AudioFile.info(item.path) }
            expectInputError(item, "decode") { try AudioFile.decode(item.path) }
            expectInputError(item, "decode(native)") { try AudioFile.decode(item.path, sampleRate: nil, mono: false) }
            expectInputError(item, "decode(middle)") { try AudioFile.decode(item.path, segment: .middle(seconds: 1)) }
            expectInputError(item, "crops") { try AudioFile.crops(item.path, count: 3, seconds: 1) }
        }
    }

    @Test func errorMessagesReadWell() throws {
        let corpus = try CorruptInputCorpus(
            goodMP3: Data(contentsOf: URL(fileURLWithPath: try fixture("steps-8s-22050-mono.mp3"))))
        defer { try? FileManager.default.removeItem(at: corpus.folder) }
        let truncated = corpus.cases.first { $0.name == "truncated.mp3" }!
        #expect(
            throws: InputError(
                truncated.path,
                "truncated or corrupt: its MPEG frames stop at 3.21 s of the 8.00 s its header announces")
        ) {
            try AudioFile.decode(truncated.path)
        }
    }
}
