import Foundation
import MoodAudio
import MoodCore
@testable import MoodSpectrogram
import MoodTestSupport
import Testing

@Suite struct FeatureCacheTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-cache-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("audio"), withIntermediateDirectories: true)
    }

    /// A mono 16-bit WAV of the test signal at 22050 Hz, scaled by `gain`.
    func writeWAV(_ name: String, gain: Float = 1, seconds: Double = 2) throws -> String {
        let samples = TestSignal.samples(length: Int(seconds * 22050)).map { $0 * gain }
        var body = Data()
        for s in samples {
            withUnsafeBytes(of: Int16((s * 32767).rounded()).littleEndian) { body.append(contentsOf: $0) }
        }
        func u32(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).littleEndian) { Data($0) } }
        func u16(_ v: Int) -> Data { withUnsafeBytes(of: UInt16(v).littleEndian) { Data($0) } }
        var data = Data("RIFF".utf8) + u32(36 + body.count) + Data("WAVEfmt ".utf8) + u32(16) + u16(1) + u16(1)
        data += u32(22050) + u32(44100) + u16(2) + u16(16) + Data("data".utf8) + u32(body.count) + body
        let url = folder.appendingPathComponent("audio").appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func entries(_ cache: FeatureCache) -> [String] {
        (FileManager.default.enumerator(atPath: cache.directory.path)?.allObjects as? [String] ?? []).filter {
            $0.hasSuffix(".mdxf")
        }
    }

    @Test func cachedEqualsComputedWithinHalfPrecision() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeWAV("a.wav")
        let cache = try FeatureCache(
            directory: folder.appendingPathComponent("cache"), recipe: FeatureRecipe(segment: .whole))
        let direct = try cache.recipe.compute(path)
        let first = try cache.spectrogram(for: path)
        let second = try cache.spectrogram(for: path)
        let identical = first == second  // a cold and a warm cache give the same numbers
        #expect(identical)
        #expect(second.bands == direct.bands && second.frames == direct.frames)
        // Float16 keeps 11 significant bits: relative error at most 2^-11.
        let worst = zip(second.values, direct.values).map { abs($0 - $1) / max(abs($1), 1) }.max()!
        #expect(worst <= 1.0 / 2048, "largest relative difference \(worst)")
        #expect(entries(cache).count == 1)
    }

    @Test func changedParametersOrContentNeverReturnStaleEntries() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeWAV("b.wav")
        let cacheFolder = folder.appendingPathComponent("cache")
        let wide = try FeatureCache(directory: cacheFolder, recipe: FeatureRecipe(segment: .whole))
        let before = try wide.spectrogram(for: path)
        var other = FeatureRecipe(segment: .whole)
        other.parameters.melBands = 64
        #expect(try FeatureCache(directory: cacheFolder, recipe: other).spectrogram(for: path).bands == 64)
        var louder = FeatureRecipe(segment: .whole)
        louder.parameters.reference = .max
        #expect(try FeatureCache(directory: cacheFolder, recipe: louder).spectrogram(for: path).range.upperBound == 0)
        #expect(entries(wide).count == 3)

        // Same path, new content: 6 dB quieter gives a different spectrogram, not the cached one.
        _ = try writeWAV("b.wav", gain: 0.5)
        let after = try wide.spectrogram(for: path)
        #expect(abs(after.range.upperBound - (before.range.upperBound - 6.02)) < 0.1)
    }

    @Test func damagedEntriesAreRecomputed() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeWAV("c.wav")
        let cache = try FeatureCache(
            directory: folder.appendingPathComponent("cache"), recipe: FeatureRecipe(segment: .whole))
        let good = try cache.spectrogram(for: path)
        let entry = cache.directory.appendingPathComponent(entries(cache)[0])
        let bytes = try Data(contentsOf: entry)
        try bytes.prefix(bytes.count / 2).write(to: entry)
        let afterTruncation = try cache.spectrogram(for: path) == good
        #expect(afterTruncation)
        try Data("junk".utf8).write(to: entry)
        let afterJunk = try cache.spectrogram(for: path) == good
        #expect(afterJunk)
    }

    /// A flipped bit in the payload leaves the size and header intact: only the checksum sees it.
    @Test func flippedPayloadBitsAreCaughtByTheChecksumAndReported() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeWAV("d.wav")
        let cache = try FeatureCache(
            directory: folder.appendingPathComponent("cache"), recipe: FeatureRecipe(segment: .whole))
        let good = try cache.spectrogram(for: path)
        let entry = cache.directory.appendingPathComponent(entries(cache)[0])
        var bytes = try Data(contentsOf: entry)
        for offset in [bytes.count - 2, bytes.count - 1000, bytes.count / 2 + 7] { bytes[offset] ^= 0x40 }
        try bytes.write(to: entry)
        let afterFlip = try cache.spectrogram(for: path) == good
        #expect(afterFlip, "a damaged entry was reused")
        // Reported through a build as well.
        bytes = try Data(contentsOf: entry)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: entry)
        let report = cache.build([path], workers: 1, progress: false)
        #expect(report.repaired == [path] && report.computed == 1 && report.reused == 0)
        #expect(try cache.spectrogram(for: path) == good)
    }

    @Test func buildComputesOnceCollectsBadFilesAndReusesAfterwards() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        for i in 0..<5 { _ = try writeWAV("clip\(i).wav", gain: 1 / Float(i + 1)) }
        let bad = folder.appendingPathComponent("audio/broken.mp3")
        try Data("not audio at all".utf8).write(to: bad)
        let paths = try FeatureCache.audioFiles(in: folder.appendingPathComponent("audio").path)
        #expect(paths.count == 6)
        let cache = try FeatureCache(
            directory: folder.appendingPathComponent("cache"), recipe: FeatureRecipe(segment: .first(seconds: 1)))
        let first = cache.build(paths, workers: 2, progress: false)
        #expect(first.computed == 5 && first.reused == 0)
        #expect(first.failures.map(\.path) == [bad.path])
        let second = cache.build(paths, workers: 2, progress: false)
        #expect(second.computed == 0 && second.reused == 5 && second.failures.count == 1)
    }

    /// A cache that cannot be written is one error naming the cache, not a failure of every audio file.
    @Test func anUnwritableCacheIsBlamedOnTheCacheNotTheAudio() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = [try writeWAV("a.wav"), try writeWAV("b.wav", gain: 0.5)]
        let blocker = folder.appendingPathComponent("cache")
        try Data("a file where the cache folder should be".utf8).write(to: blocker)
        let cache = try FeatureCache(
            directory: blocker.appendingPathComponent("features"), recipe: FeatureRecipe(segment: .whole))
        let report = cache.build(paths, workers: 1, progress: false)
        #expect(report.failures.isEmpty, "blamed on the audio: \(report.failures)")
        let error = try #require(report.cacheError)
        #expect(error.path.hasPrefix(blocker.path) && error.problem.contains("is a file, not a folder"), "\(error)")
        #expect(!"\(error)".contains("NSCocoaErrorDomain"))
    }

    @Test func emptyOrMissingFoldersAreNamed() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: InputError(empty, "no audio files (.mp3, .wav, .ogg) in this folder")) {
            try FeatureCache.audioFiles(in: empty)
        }
        #expect(throws: InputError(empty + "/nope", "no such folder")) {
            try FeatureCache.audioFiles(in: empty + "/nope")
        }
        // Ogg Vorbis is decoded, so it is found too.
        for name in ["b.OGG", "a.ogg", "c.wav", "notes.txt"] {
            try Data().write(to: URL(fileURLWithPath: empty).appendingPathComponent(name))
        }
        #expect(
            try FeatureCache.audioFiles(in: empty).map { URL(fileURLWithPath: $0).lastPathComponent } == [
                "a.ogg", "b.OGG", "c.wav",
            ])
    }

    @Test func badParametersAreRefusedUpFront() {
        var recipe = FeatureRecipe()
        recipe.parameters.hopLength = 0
        #expect(throws: InvalidParameter("hopLength", 0, "must be at least 1")) {
            try FeatureCache(directory: URL(fileURLWithPath: "/tmp/unused"), recipe: recipe)
        }
    }
}

@Suite struct FeatureCacheBadInputTests {
    @Test func everyBadFileIsNamedThroughTheCache() throws {
        let corpus = try CorruptInputCorpus(
            goodMP3: Data(contentsOf: URL(fileURLWithPath: try fixture("steps-8s-22050-mono.mp3"))))
        defer { try? FileManager.default.removeItem(at: corpus.folder) }
        let cache = try FeatureCache(
            directory: corpus.folder.appendingPathComponent(".cache"),
            recipe: FeatureRecipe(segment: .middle(seconds: 1)))
        for item in corpus.cases {
            do {
                _ = try cache.spectrogram(for: item.path)
                Issue.record("\(item.name) gave a spectrogram")
            } catch let error as InputError {
                #expect(error.path == item.path)
                #expect(error.problem.lowercased().contains(item.reason.lowercased()), "\(item.name): \(error.problem)")
            }
        }
        let report = cache.build(corpus.cases.map(\.path), workers: 2, progress: false)
        #expect(report.failures.count == corpus.cases.count && report.computed == 0)
        // Good files among the bad keep their results.
        let good = try fixture("steps-8s-22050-mono.mp3")
        let mixed = cache.build(corpus.cases.map(\.path) + [good], workers: 2, progress: false)
        #expect(mixed.failures.count == corpus.cases.count && mixed.computed == 1)
    }
}
