import Foundation
import MoodCore
@testable import MoodDatasets
@testable import MoodFeatures
import MoodTestSupport
import Testing

@Suite struct DatasetsTests {
    @Test func csvHandlesQuotesCommasCRLFAndNamesMissingColumns() throws {
        let text = "name,mood,tempo\r\n\"Song, with comma\",Happy,120.5\r\n\"Say \"\"hi\"\"\",Sad,90\r\n"
        let table = try CSVTable(text: text, path: "t.csv")
        #expect(try table.strings("name") == ["Song, with comma", "Say \"hi\""])
        #expect(try table.numbers("tempo") == [120.5, 90])
        #expect(throws: InputError("t.csv", "missing column 'energy' (columns: name, mood, tempo)")) {
            try table.numbers("energy")
        }
        let bad = try CSVTable(text: "a,b\n1,x\n", path: "b.csv")
        #expect(throws: InputError("b.csv", "line 2, column 'b': 'x' is not a number")) { try bad.numbers("b") }
        #expect(throws: InputError.self) { try CSVTable(text: "a\n\"open", path: "c.csv") }
        // A quoted field keeps its line break, CRLF or LF; a byte-order mark is not part of the header.
        let multiline = try CSVTable(text: "\u{FEFF}a,b\r\n\"two\r\nlines\",x\r\n\"3\n4\",y\n", path: "m.csv")
        #expect(multiline.header == ["a", "b"])
        #expect(try multiline.strings("a") == ["two\r\nlines", "3\n4"])
        #expect(try multiline.strings("b") == ["x", "y"])
    }

    /// Metadata and CSV readers open only regular files: a FIFO would block them forever.
    @Test func tablesRefuseSpecialFiles() throws {
        let folder = try temporaryFolder("tables")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("metadata.tsv").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let expected = InputError(fifo, "is a named pipe (FIFO), not a regular file")
        #expect(throws: expected) { try MTGJamendo.tracks(fifo) }
        #expect(throws: expected) { try CSVTable(contentsOf: fifo) }
    }

    @Test func spotifyMoodsFindsDuplicatedIdsAndTheCeiling() throws {
        let folder = try temporaryFolder("spotify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = "id," + SpotifyMoods.featureNames.joined(separator: ",") + ",mood"
        let row = { (id: String, mood: String) in
            id + "," + SpotifyMoods.featureNames.map { _ in "0.5" }.joined(separator: ",") + "," + mood
        }
        let url = folder.appendingPathComponent("m.csv")
        try
            ([header, row("a", "Happy"), row("a", "Energetic"), row("b", "Calm"), row("c", "Sad")].joined(
                separator: "\n")).write(to: url, atomically: true, encoding: .utf8)
        let data = try SpotifyMoods(contentsOf: url.path)
        #expect(data.labels == [2, 1, 0, 3])
        #expect(data.conflictingIDs == (1, 2))
        #expect(data.accuracyCeiling == 0.75)
        try ([header, row("a", "Angry")].joined(separator: "\n")).write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try SpotifyMoods(contentsOf: url.path) }
    }

    @Test func foldsPartitionTheDataAndKeepGroupsWhole() {
        var g = SeededGenerator(seed: 1)
        let folds = CrossValidation.kFold(count: 23, folds: 5, generator: &g)
        #expect(folds.map(\.count) == [5, 5, 5, 4, 4])
        #expect(folds.flatMap { $0 }.sorted() == Array(0..<23))
        let groups = (0..<40).map { "artist\($0 % 13)" }
        let grouped = CrossValidation.groupKFold(groups: groups, folds: 4, generator: &g)
        #expect(grouped.flatMap { $0 }.sorted() == Array(0..<40))
        for (i, a) in grouped.enumerated() {
            for b in grouped[(i + 1)...] { #expect(Set(a.map { groups[$0] }).isDisjoint(with: b.map { groups[$0] })) }
        }
        var again = SeededGenerator(seed: 1)
        _ = CrossValidation.kFold(count: 23, folds: 5, generator: &again)
        #expect(CrossValidation.groupKFold(groups: groups, folds: 4, generator: &again) == grouped)
    }

    @Test func minMaxScalerMapsTheTrainingRangeToZeroOne() {
        let scaler = MinMaxScaler(fitting: [[1, 5], [3, 5]])
        #expect(scaler.transform([2, 5]) == [0.5, 0])
        #expect(scaler.transform([5, 7]) == [2, 0])
    }

    /// The official layout: PATH names like 48/948.mp3 under the audio folder; .low.mp3 for the low-quality set.
    @Test func mtgJamendoSplitFindsAudioInTheOfficialLayout() throws {
        let root = try temporaryFolder("mtg")
        defer { try? FileManager.default.removeItem(at: root) }
        let split = root.appendingPathComponent("data/splits/split-0")
        try FileManager.default.createDirectory(at: split, withIntermediateDirectories: true)
        try """
        TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r
        track_0000948\tartist_000087\talbum_000149\t48/948.mp3\t212.7\tmood/theme---background\tmood/theme---calm\r
        track_0000950\tartist_000087\talbum_000149\t50/950.mp3\t248.0\tmood/theme---happy\r
        track_0001000\tartist_000001\talbum_000001\t00/1000.mp3\t100.0\tmood/theme---calm\r
        """.write(to: split.appendingPathComponent("autotagging_moodtheme-test.tsv"), atomically: true, encoding: .utf8)
        let audio = root.appendingPathComponent("audio")
        for path in ["48/948.mp3", "50/950.low.mp3"] {
            let url = audio.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0xFF]).write(to: url)
        }
        let s = try MTGJamendo.audioSplit(
            metadata: root.appendingPathComponent("data"), split: 0, part: "test", audioFolder: audio,
            tags: ["background", "calm", "happy"])
        #expect(
            s.paths == [
                audio.appendingPathComponent("48/948.mp3").path, audio.appendingPathComponent("50/950.low.mp3").path,
            ])
        #expect(s.targets == [[1, 1, 0], [0, 0, 1]])
        #expect(s.artists == ["artist_000087", "artist_000087"])
        #expect(s.missing == 1)
    }

    @Test func audioFeaturesDescribeToneAndNoise() throws {
        let tone = sine(1000, seconds: 5, sampleRate: 22050, amplitude: 0.5)
        var g = SeededGenerator(seed: 4)
        let noise = (0..<(5 * 22050)).map { _ in g.nextUniform() - 0.5 }
        let t = try AudioFeatures.compute(tone, sampleRate: 22050),
            n = try AudioFeatures.compute(noise, sampleRate: 22050)
        let index = { (name: String) in AudioFeatures.names.firstIndex(of: name)! }
        #expect(abs(t[index("centroid_hz")] - 1000) < 60, "tone centroid \(t[index("centroid_hz")])")
        #expect(abs(t[index("zcr")] - 2000.0 / 22050) < 0.002)
        #expect(t[index("flatness")] < 0.05 && n[index("flatness")] > 0.3)
        #expect(
            abs(t[index("rms_mean_db")] - 20 * log10(0.5 / 2.0.squareRoot())) < 1.0,
            "tone loudness \(t[index("rms_mean_db")])")
        #expect(t.count == AudioFeatures.names.count && t.allSatisfy(\.isFinite) && n.allSatisfy(\.isFinite))
    }
}
