import Foundation

/// Bad files, made here: every public entry point must answer each with an
/// `InputError` naming the file and the reason, never a crash, hang or garbage.
public struct CorruptInputCorpus {
    /// A file (or missing path, or folder) and words its error must contain.
    public struct Case: CustomStringConvertible, Sendable {
        public var name: String
        public var path: String
        public var reason: String
        public var description: String { name }
    }

    public let folder: URL
    public let cases: [Case]

    /// `goodMP3`: a valid MP3 of several seconds with an Info tag, to truncate and damage.
    public init(goodMP3: Data) throws {
        let root = try temporaryFolder("corpus")
        var made = [Case]()
        func add(_ name: String, _ data: Data?, _ reason: String) throws {
            let url = root.appendingPathComponent(name)
            if let data { try data.write(to: url) }
            made.append(Case(name: name, path: url.path, reason: reason))
        }
        let good = goodMP3
        var generator = SplitMix64(seed: 20221)
        let random = Data((0..<65536).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        // An ID3v2.4 tag holding one text frame, and no audio after it.
        let id3 =
            Data([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 15]) + Data("TIT2".utf8) + Data([0, 0, 0, 5, 0, 0, 3])
            + Data("song".utf8)
        var corruptMiddle = good
        for i in 20000..<30000 { corruptMiddle[i] = UInt8(truncatingIfNeeded: generator.next()) }

        try add("truncated.mp3", good.prefix(good.count * 2 / 5), "truncated")
        try add("corrupt-middle.mp3", corruptMiddle, "corrupt")
        try add("empty.mp3", Data(), "empty file")
        try add("id3-only.mp3", id3, "no MPEG audio frame")
        try add("random.mp3", random, "no MPEG audio frame")
        try add(
            "text.mp3", Data(String(repeating: "This is a text file, not a song.\n", count: 300).utf8),
            "no MPEG audio frame")
        try add(
            "no-fmt.wav",
            Data("RIFF".utf8) + Data([40, 0, 0, 0]) + Data("WAVEdata".utf8) + Data([4, 0, 0, 0, 1, 2, 3, 4]),
            "no fmt chunk")
        var overlong = wavData([0.1, 0.2, 0.3], channels: 1, sampleRate: 22050)
        overlong[40] = 0xFF; overlong[41] = 0xFF; overlong[42] = 0x00  // data chunk claims 65535 bytes
        try add("truncated.wav", overlong, "truncated WAV")
        var zeroChannels = wavData([0.1, 0.2], channels: 1, sampleRate: 22050)
        zeroChannels[22] = 0  // 0 channels
        try add("zero-channels.wav", zeroChannels, "channels")
        try add("riff-garbage.wav", Data("RIFF????WAVE".utf8) + random.prefix(100), "broken WAV header")
        try add("text.wav", Data("not a wav".utf8), "no RIFF/WAVE header")
        try add("missing.mp3", nil, "no such file")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("folder.mp3"), withIntermediateDirectories: true)
        made.append(Case(name: "folder.mp3", path: root.appendingPathComponent("folder.mp3").path, reason: "directory"))
        // Special files named like audio: opening a FIFO blocks and a device never ends.
        let fifo = root.appendingPathComponent("fifo.mp3")
        guard mkfifo(fifo.path, 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
        made.append(Case(name: "fifo.mp3", path: fifo.path, reason: "FIFO"))
        let device = root.appendingPathComponent("device.wav")
        try FileManager.default.createSymbolicLink(atPath: device.path, withDestinationPath: "/dev/null")
        made.append(Case(name: "device.wav", path: device.path, reason: "device"))
        folder = root
        cases = made
    }
}

/// A tiny seeded generator for test data (SplitMix64).
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
