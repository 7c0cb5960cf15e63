import Foundation
import MoodAudio
import MoodCore

/// What is computed from an audio file: which segment, how short files are treated,
/// and the spectrogram's parameters. Its `key` names all of it in one string.
public struct FeatureRecipe: Sendable, Equatable {
    public var parameters: SpectrogramParameters
    public var segment: Segment
    public var short: ShortAudioPolicy

    /// Bumped whenever decoding or the spectrogram changes in a way that alters values.
    public static let version = 1

    public init(
        parameters: SpectrogramParameters = SpectrogramParameters(),
        segment: Segment = .first(seconds: 30), short: ShortAudioPolicy = .pad
    ) {
        self.parameters = parameters
        self.segment = segment
        self.short = short
    }

    public var key: String {
        "mooddex-features v\(Self.version) segment=\(segment) short=\(short.rawValue) \(parameters)"
    }

    /// Decodes `path` and computes its log-mel spectrogram (no cache).
    public func compute(_ path: String, with computer: LogMelSpectrogram? = nil) throws -> Spectrogram {
        let audio = try AudioFile.decode(path, sampleRate: parameters.sampleRate, segment: segment, short: short)
        return try (computer ?? LogMelSpectrogram(parameters))(audio)
    }
}

/// Log-mel spectrograms cached on disk, keyed by the audio file's SHA-256 and the recipe.
///
/// Entries are Float16 (half the bytes; values are dB with a 0.03 dB step near 64 dB,
/// far below what a CNN notices); computation stays Float32, and a freshly computed
/// spectrogram is rounded the same way, so a cold and a warm cache give identical
/// numbers. A changed file has another
/// hash and a changed parameter another key, so no stale entry is ever returned; an entry
/// whose header does not match its key exactly is recomputed. Entries are written
/// atomically, so an interrupted build leaves only whole entries and a rerun resumes.
public struct FeatureCache: Sendable {
    public let directory: URL
    public let recipe: FeatureRecipe

    static let magic = Array("MDXF".utf8)
    /// 2: the header carries the payload's SHA-256 (entries of version 1 are recomputed).
    static let formatVersion: UInt32 = 2

    public init(directory: URL, recipe: FeatureRecipe = FeatureRecipe()) throws {
        try recipe.parameters.validate()
        self.directory = directory
        self.recipe = recipe
    }

    /// How a build went.
    public struct BuildReport: Sendable {
        public var computed = 0
        public var reused = 0
        public var failures = [InputError]()
        public var interrupted = false
        /// The cache could not be written (full disk, read-only folder): the build stopped there.
        public var cacheError: OutputError?
        /// Audio files whose cache entry was damaged (and has been recomputed).
        public var repaired = [String]()
        public var seconds = 0.0
    }

    /// The spectrogram of `path`, from the cache when present, else computed and stored.
    public func spectrogram(for path: String) throws -> Spectrogram {
        try spectrogram(for: path, computer: nil).spectrogram
    }

    /// The spectrogram of `path` and whether it came from the cache.
    func spectrogram(for path: String, computer: LogMelSpectrogram?) throws -> (
        spectrogram: Spectrogram, reused: Bool, repaired: Bool
    ) {
        let contentHash = try contentHash(path)
        let entry = entryURL(contentHash: contentHash)
        var repaired = false
        switch load(entry, contentHash: contentHash) {
        case .hit(let cached): return (cached, true, false)
        case .missing: break
        case .damaged(let reason):
            // Reported, so a disk that corrupts files does not go unnoticed.
            repaired = true
            FileHandle.standardError.write(
                Data("mooddex: \(entry.path): damaged feature-cache entry for \(path) (\(reason)); recomputed\n".utf8))
        }
        var spectrogram = try recipe.compute(path, with: computer)
        // Hand back what a later hit will return, so results never depend on the cache's state.
        spectrogram.values = spectrogram.values.map { Float(Float16($0)) }
        do { try store(spectrogram, at: entry, contentHash: contentHash) } catch let error as OutputError {
            throw OutputError(error.path, "feature cache entry: \(error.problem)")
        }
        return (spectrogram, false, repaired)
    }

    /// Fills the cache for `paths` on `workers` threads with a progress bar. Bad files are
    /// collected, not fatal; Ctrl-C (after `Interrupt.install()`) stops between files.
    public func build(
        _ paths: [String], workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: Bool = true
    ) -> BuildReport {
        let start = Date()
        let bar = ProgressBar("features", total: paths.count, enabled: progress)
        let lock = NSLock()
        var report = BuildReport()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, paths.count))) { _ in
            let computer = try? LogMelSpectrogram(recipe.parameters)
            while true {
                lock.lock()
                if Interrupt.requested { report.interrupted = true }
                let index = next
                next += 1
                let cacheFailed = report.cacheError != nil
                lock.unlock()
                guard index < paths.count, !Interrupt.requested, !cacheFailed else { return }
                let outcome = Result { try spectrogram(for: paths[index], computer: computer) }
                lock.lock()
                switch outcome {
                case .success(let result):
                    if result.reused { report.reused += 1 } else { report.computed += 1 }
                    if result.repaired { report.repaired.append(paths[index]) }
                case .failure(let error as InputError): report.failures.append(error)
                case .failure(let error as OutputError): if report.cacheError == nil { report.cacheError = error }
                case .failure(let error): report.failures.append(InputError(paths[index], "\(error)"))
                }
                lock.unlock()
                bar.advance()
            }
        }
        bar.finish()
        report.failures.sort { $0.path < $1.path }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// Every .mp3, .wav and .ogg below `folder`, sorted; an empty or missing folder is an error.
    public static func audioFiles(in folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw InputError(folder, "no such folder")
        }
        guard isDirectory.boolValue else { throw InputError(folder, "is a file, not a folder") }
        let root = URL(fileURLWithPath: folder)
        var found = [String]()
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where ["mp3", "wav", "ogg"].contains(url.pathExtension.lowercased()) {
                found.append(url.path)
            }
        }
        guard !found.isEmpty else { throw InputError(folder, "no audio files (.mp3, .wav, .ogg) in this folder") }
        return found.sorted()
    }

    // MARK: - Entries

    func contentHash(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw InputError(path, "is a directory, not an audio file") }
        try RegularFile.check(path)
        return try SHA256.hex(ofFile: path)
    }

    func entryURL(contentHash: String) -> URL {
        let name = SHA256.hex(Array((contentHash + "\n" + recipe.key).utf8))
        return directory.appendingPathComponent(String(name.prefix(2))).appendingPathComponent(name + ".mdxf")
    }

    struct Header: Codable {
        var key: String; var contentHash: String; var bands: Int; var frames: Int; var payloadSHA256: String
    }

    func store(_ spectrogram: Spectrogram, at url: URL, contentHash: String) throws {
        let halves = spectrogram.values.map { Float16($0).bitPattern.littleEndian }
        let payload = halves.withUnsafeBytes { Data($0) }
        let header = try JSONEncoder().encode(
            Header(
                key: recipe.key, contentHash: contentHash, bands: spectrogram.bands,
                frames: spectrogram.frames, payloadSHA256: SHA256.hex(payload)))
        var data = Data(Self.magic)
        withUnsafeBytes(of: Self.formatVersion.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        data.append(payload)
        try AtomicFile.write(data, to: url)
    }

    /// What reading an entry found.
    enum Lookup { case hit(Spectrogram), missing, damaged(String) }

    /// The entry at `url` if it exists, is whole, was made from this content and recipe, and
    /// its payload matches its checksum. An entry of an older format counts as missing.
    func load(_ url: URL, contentHash: String) -> Lookup {
        guard let data = FileManager.default.contents(atPath: url.path) else { return .missing }
        guard data.count >= 12, Array(data.prefix(4)) == Self.magic else { return .damaged("not a cache entry") }
        return data.withUnsafeBytes { raw -> Lookup in
            guard UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == Self.formatVersion
            else { return .missing }
            let headerLength = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            guard headerLength <= raw.count - 12,
                let header = try? JSONDecoder().decode(Header.self, from: Data(raw[12..<12 + headerLength]))
            else {
                return .damaged("unreadable header")
            }
            guard header.key == recipe.key, header.contentHash == contentHash else {
                return .damaged("header of another file or recipe")
            }
            let base = 12 + headerLength
            // Sizes from the file are checked without overflow before anything is allocated.
            let (count, overflow) = header.bands.multipliedReportingOverflow(by: header.frames)
            guard header.bands > 0, header.frames > 0, !overflow, count <= (raw.count - base) / 2,
                raw.count - base == 2 * count
            else {
                return .damaged("truncated or wrong size")
            }
            guard SHA256.hex(UnsafeRawBufferPointer(rebasing: raw[base...])) == header.payloadSHA256 else {
                return .damaged("checksum mismatch")
            }
            var values = [Float](repeating: 0, count: count)
            for i in values.indices {
                values[i] = Float(
                    Float16(
                        bitPattern: UInt16(
                            littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))))
            }
            return .hit(Spectrogram(values: values, bands: header.bands, frames: header.frames))
        }
    }
}
