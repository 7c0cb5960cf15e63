import Foundation
import MoodAudio
import MoodClassifier
import MoodCore
@testable import MoodSpectrogram
import MoodTestSupport
import Testing

/// Seeded mutations of well-formed inputs: every reader must answer with a result or a
/// clear error (``InputError`` / ``InvalidParameter``), never a crash, a hang or another error.
/// Fixed seeds, so a failure names a case that reruns exactly.
@Suite struct FuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("MoodAudioTests/Fixtures")

    @Test func audioDecoders() throws {
        let folder = try temporaryFolder("fuzz-audio")
        defer { try? FileManager.default.removeItem(at: folder) }
        let wav = wavData(
            sine(440, seconds: 1.5, sampleRate: 22050).flatMap { [$0, -$0] }, channels: 2, sampleRate: 22050)
        let seeds: [(String, Data)] = [
            ("mp3", try Data(contentsOf: Self.fixtures.appendingPathComponent("sine1k-16000-mono.mp3"))),
            ("wav", wav),
            ("ogg", try Data(contentsOf: Self.fixtures.appendingPathComponent("steps-8s-44100-stereo.ogg"))),
        ]
        var fuzz = Fuzz(seed: 11)
        for (ext, original) in seeds {
            let path = folder.appendingPathComponent("case.\(ext)").path
            for _ in 0..<500 {
                let (data, how) = fuzz.mutator.mutate(original)
                try data.write(to: URL(fileURLWithPath: path))
                fuzz.run("\(ext) \(how)") {
                    _ = try AudioFile.info(path)
                    _ = try AudioFile.decode(path, segment: .first(seconds: 1), short: .padAny)
                }
                fuzz.run("\(ext) middle \(how)") {
                    _ = try AudioFile.decode(path, segment: .middle(seconds: 2), short: .pad)
                }
            }
        }
        fuzz.finish("audio (MP3, WAV, Ogg)")
    }

    /// A small saved model: the model.json and model.safetensors to damage.
    static func savedModel(in folder: URL) throws -> URL {
        var settings = MoodModel.Settings()
        settings.channels = [2, 2, 2, 2]
        let url = folder.appendingPathComponent("model")
        try MoodModel(settings: settings).save(to: url)
        return url
    }

    @Test func safetensors() throws {
        let folder = try temporaryFolder("fuzz-safetensors")
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try Data(contentsOf: Self.savedModel(in: folder).appendingPathComponent("model.safetensors"))
        let headerLength = Int(original.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: original[8..<8 + headerLength]) as! [String: Any]
        let body = original[(8 + headerLength)...]
        var fuzz = Fuzz(seed: 12)
        for i in 0..<1200 {
            let data: Data, how: String
            if i % 2 == 0 {
                (data, how) = fuzz.mutator.mutate(original)
            } else {
                // Header fields set to extremes, the file otherwise consistent.
                var edited = header
                let name = edited.keys.filter { $0 != "__metadata__" }.sorted()[fuzz.mutator.int(edited.count - 1)]
                var entry = edited[name] as! [String: Any]
                let field = ["shape", "data_offsets", "dtype"][fuzz.mutator.int(3)]
                let value = fuzz.mutator.extremeJSON()
                if field == "dtype" {
                    entry[field] = value
                } else {
                    var list = entry[field] as? [Any] ?? []
                    if list.isEmpty { list = [value] } else { list[fuzz.mutator.int(list.count)] = value }
                    entry[field] = list
                }
                edited[name] = entry
                let json = try JSONSerialization.data(withJSONObject: edited)
                var bytes = Data()
                withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
                data = bytes + json + body
                how = "\(name).\(field) = \(value)"
            }
            fuzz.run("safetensors \(how)") { _ = try Safetensors.decode(data, path: "fuzz.safetensors") }
        }
        fuzz.finish("safetensors")
    }

    @Test func modelFolders() throws {
        let folder = try temporaryFolder("fuzz-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.savedModel(in: folder)
        let json = model.appendingPathComponent("model.json")
        let original = try Data(contentsOf: json)
        let settings = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        let clip = folder.appendingPathComponent("clip.wav")
        try wavData(sine(440, seconds: 4, sampleRate: 22050), channels: 1, sampleRate: 22050).write(to: clip)
        var fuzz = Fuzz(seed: 13)
        for i in 0..<800 {
            let data: Data, how: String
            if i % 2 == 0 {
                (data, how) = fuzz.mutator.mutate(original)
            } else {
                var edited = settings
                let key = settings.keys.sorted()[fuzz.mutator.int(settings.count)]
                let value = fuzz.mutator.extremeJSON()
                if var list = edited[key] as? [Any], !list.isEmpty, fuzz.mutator.int(2) == 0 {
                    list[fuzz.mutator.int(list.count)] = value
                    edited[key] = list
                } else {
                    edited[key] = value
                }
                data = try JSONSerialization.data(withJSONObject: edited)
                how = "\(key) = \(value)"
            }
            try data.write(to: json)
            fuzz.run("model.json \(how)") {
                let loaded = try MoodModel.load(from: model)
                // An accepted model must classify (or refuse the clip with an InputError).
                _ = loaded.classify([clip.path], threads: 1)
            }
        }
        fuzz.finish("model.json")
    }

    @Test func featureCacheEntries() throws {
        let folder = try temporaryFolder("fuzz-cache")
        defer { try? FileManager.default.removeItem(at: folder) }
        let clip = folder.appendingPathComponent("clip.wav")
        try wavData(sine(440, seconds: 1, sampleRate: 22050), channels: 1, sampleRate: 22050).write(to: clip)
        let cache = try FeatureCache(
            directory: folder.appendingPathComponent("cache"), recipe: FeatureRecipe(segment: .whole))
        let good = try cache.spectrogram(for: clip.path)
        let hash = try cache.contentHash(clip.path)
        let entry = cache.entryURL(contentHash: hash)
        let original = try Data(contentsOf: entry)
        var fuzz = Fuzz(seed: 14)
        for i in 0..<600 {
            let (data, how) = fuzz.mutator.mutate(original)
            try data.write(to: entry)
            fuzz.run("cache entry \(how)") {
                if case .hit(let s) = cache.load(entry, contentHash: hash), s != good, data != original {
                    Issue.record("cache entry \(how): a damaged entry was returned as a hit")
                }
                // Every tenth case through the public path: damaged entries are recomputed.
                if i % 10 == 0, try cache.spectrogram(for: clip.path) != good {
                    Issue.record("cache entry \(how): wrong spectrogram")
                }
            }
        }
        fuzz.finish("feature-cache entries")
    }

    @Test func playlists() throws {
        let folder = try temporaryFolder("fuzz-m3u")
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = Data(
            """
            #EXTM3U
            #EXTINF:30,Artist - Title
            songs/a.mp3
            /absolute/b.ogg
            file:///music/c%20d.wav
            ../up/é ü.mp3

            """.utf8)
        let list = folder.appendingPathComponent("list.m3u"), out = folder.appendingPathComponent("sub/out.m3u")
        var fuzz = Fuzz(seed: 15)
        for _ in 0..<500 {
            let (data, how) = fuzz.mutator.mutate(original)
            try data.write(to: list)
            fuzz.run("m3u \(how)") {
                let playlist = try Playlist(contentsOf: list.path)
                try Playlist.write(playlist.entries, to: out)
                let again = try Playlist(contentsOf: out.path)
                if again.entries.map(\.path) != playlist.entries.map(\.path) {
                    Issue.record(
                        "m3u \(how): rewriting changed the entries \(playlist.entries.map(\.path)) to \(again.entries.map(\.path))"
                    )
                }
            }
        }
        fuzz.finish("M3U playlists")
    }
}

/// Runs fuzz cases: counts them, checks the kind of every error, and aborts with the case's
/// name if one runs far too long (a hang must fail the run, not stall CI).
struct Fuzz {
    var mutator: Mutator
    private(set) var cases = 0
    private let watchdog = Watchdog(limit: 60)

    init(seed: UInt64) { mutator = Mutator(seed: seed) }

    mutating func run(_ label: String, _ body: () throws -> Void) {
        cases += 1
        watchdog.start(label)
        defer { watchdog.stop() }
        do { try body() } catch is InputError {} catch is InvalidParameter {} catch {
            Issue.record("\(label): not a clear error: \(type(of: error)): \(error)")
        }
    }

    func finish(_ what: String) {
        watchdog.end()
        print("fuzz: \(cases) cases of \(what)")
    }
}

/// Seeded mutations: truncation, bit flips, chunk duplication, fields set to extremes.
struct Mutator {
    var random: SplitMix64
    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func int(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }

    /// One to three mutations of `data`, and what they were.
    mutating func mutate(_ data: Data) -> (Data, String) {
        var bytes = [UInt8](data)
        var steps = [String]()
        for _ in 0...int(3) where !bytes.isEmpty {
            switch int(4) {
            case 0:
                let keep = int(bytes.count)
                bytes.removeLast(bytes.count - keep)
                steps.append("truncate@\(keep)")
            case 1:
                let flips = 1 + int(16)
                for _ in 0..<flips { bytes[int(bytes.count)] ^= 1 << UInt8(int(8)) }
                steps.append("flip\(flips)")
            case 2:
                let start = int(bytes.count), length = 1 + int(min(4096, bytes.count - start)),
                    at = int(bytes.count + 1)
                bytes.insert(contentsOf: bytes[start..<start + length], at: at)
                steps.append("dup\(start)+\(length)@\(at)")
            default:
                // Headers sit near the start: aim there most of the time.
                let width = [1, 2, 4, 8][int(4)]
                guard bytes.count >= width else { continue }
                let span = int(2) == 0 ? min(bytes.count, 128) : bytes.count
                let offset = int(max(1, span - width + 1))
                let pattern: UInt8 = [0x00, 0xFF, 0x7F, 0x80][int(4)]
                for k in 0..<width {
                    bytes[offset + k] =
                        k == width - 1 && pattern >= 0x7F
                        ? pattern : (pattern == 0x7F ? 0xFF : pattern == 0x80 ? 0 : pattern)
                }
                if int(2) == 0 { bytes[offset..<offset + width].reverse() }  // big- or little-endian
                steps.append("extreme\(width)x\(String(pattern, radix: 16))@\(offset)")
            }
        }
        return (Data(bytes), steps.joined(separator: ","))
    }

    /// A JSON value at an edge: huge, negative, zero, fractional, of the wrong type.
    mutating func extremeJSON() -> Any {
        let values: [Any] = [
            0, -1, 1, 2, 3, 1000, -1000, Int.max, Int.min, 1e9, 1e300, -1e300, 1e-300, 0.5, 1e-45,
            "", "middle", "x\n,\"y", [Any](), [0, 0], [1_000_000, 1_000_000], [String: Any](), NSNull(), true,
        ]
        return values[int(values.count)]
    }
}

/// Aborts the test process, naming the case, when one case exceeds `limit` seconds.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var label: String?
    private var started = Date()
    private var ended = false

    init(limit: TimeInterval) {
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                lock.lock()
                let (current, since, done) = (label, started, ended)
                lock.unlock()
                if done { return }
                if let current, Date().timeIntervalSince(since) > limit {
                    fatalError("fuzz case hung for more than \(limit) s: \(current)")
                }
            }
        }
    }

    func start(_ label: String) { lock.lock(); self.label = label; started = Date(); lock.unlock() }
    func stop() { lock.lock(); label = nil; lock.unlock() }
    func end() { lock.lock(); ended = true; lock.unlock() }
}
