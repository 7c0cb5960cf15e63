import Foundation
import MoodClassifier
import MoodCore
import MoodTestSupport
import Testing

/// A damaged or hand-edited model folder gives one clear error on load, never an abort or NaN moods.
@Suite struct ModelValidationTests {
    /// A small untrained model saved to a fresh folder.
    func savedModel(_ edit: (inout MoodModel.Settings) -> Void = { _ in }) throws -> URL {
        var settings = MoodModel.Settings()
        settings.channels = [2, 2, 2, 2]
        edit(&settings)
        let folder = try temporaryFolder("model").appendingPathComponent("model")
        try MoodModel(settings: settings).save(to: folder)
        return folder
    }

    /// Replaces one key of model.json with a raw JSON value.
    func editJSON(_ folder: URL, _ key: String, _ json: String) throws {
        let url = folder.appendingPathComponent("model.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        object[key] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    func expectRefused(_ folder: URL, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try MoodModel.load(from: folder)
            Issue.record("loaded a bad model (\(words))", sourceLocation: sourceLocation)
        } catch let error as InputError {
            #expect(error.problem.contains(words), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(type(of: error)): \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        ("pool", "[0,0]"), ("pool", "[1000,1000]"), ("pool", "[2]"), ("segmentSeconds", "1e9"),
        ("segmentSeconds", "0.01"),
        ("std", "0"), ("std", "-5"), ("segment", "\"sideways\""), ("moods", "[\"happy\",\"happy\",\"sad\",\"calm\"]"),
        ("moods", "[]"), ("channels", "[0,1,1,1]"), ("channels", "[100000,2,2,2]"), ("dropout", "1.5"),
        ("batchSize", "0"),
    ])
    func settingsOutOfRangeAreRefused(key: String, json: String) throws {
        let folder = try savedModel()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        try editJSON(folder, key, json)
        expectRefused(folder, mentioning: key)
    }

    @Test func aNaNWeightIsRefused() throws {
        let folder = try savedModel()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let url = folder.appendingPathComponent("model.safetensors")
        var (tensors, metadata) = try Safetensors.read(url.path)
        let name = tensors.keys.sorted().first { $0.hasSuffix("weight") }!
        var values = tensors[name]!.floats
        values[0] = .nan
        tensors[name] = Safetensors.Entry(shape: tensors[name]!.shape, values: .f32(values))
        try Safetensors.write(tensors, metadata: metadata, to: url)
        expectRefused(folder, mentioning: "non-finite")
    }

    @Test func hostileSafetensorsHeadersAreRefused() throws {
        let folder = try savedModel()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let url = folder.appendingPathComponent("model.safetensors")
        let good = try Data(contentsOf: url)
        var huge = good
        huge.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8))
        try huge.write(to: url)
        expectRefused(folder, mentioning: "header length")
        // Offsets past the end, negative and overflowing shapes.
        let headerLength = Int(good.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = String(decoding: good[8..<8 + headerLength], as: UTF8.self)
        for (pattern, replacement) in [
            ("\"data_offsets\":[0,", "\"data_offsets\":[0,9999999999"), ("\"shape\":[", "\"shape\":[-1,"),
            ("\"shape\":[", "\"shape\":[4611686018427387904,4,"),
        ] {
            guard let range = header.range(of: pattern) else { Issue.record("no \(pattern) in the header"); continue }
            var edited = header.replacingCharacters(in: range, with: replacement)
            if pattern.hasPrefix("\"data") {
                edited = edited.replacingOccurrences(of: "9999999999", with: "9999999999,0", options: [], range: nil)
            }
            var bytes = Data()
            withUnsafeBytes(of: UInt64(edited.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            try (bytes + Data(edited.utf8) + good[(8 + headerLength)...]).write(to: url)
            do { _ = try Safetensors.read(url.path); Issue.record("accepted \(replacement)") } catch {
                #expect(error is InputError, "\(error)")
            }
        }
    }

    /// std so small that standardised inputs overflow to infinity: probabilities are NaN, never a mood.
    @Test func nanProbabilitiesAreNeverAMood() throws {
        let folder = try savedModel { $0.std = .leastNonzeroMagnitude }
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let model = try MoodModel.load(from: folder)
        let clip = folder.deletingLastPathComponent().appendingPathComponent("tone.wav")
        try wavData(sine(440, seconds: 3, sampleRate: 22050), channels: 1, sampleRate: 22050).write(to: clip)
        let result = model.classify([clip.path], threads: 1)[0]
        #expect(
            throws: InputError(
                clip.path, "the model gave non-finite probabilities (its weights or settings are broken)")
        ) { try result.get() }
    }
}
