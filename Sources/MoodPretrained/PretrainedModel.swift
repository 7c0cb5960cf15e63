import Foundation
import MoodCore
import MoodTensor

/// The four taggers of the `musicnn` 0.1.0 wheel (Pons & Serra 2019, ISC licence), which
/// MoodDex reads itself: `scripts/setup` downloads the wheel (`pip download`, no install),
/// checks its SHA-256 and unpacks it into the cache; the first use converts a checkpoint to
/// safetensors beside it. Weights are never part of the repository.
public enum PretrainedModel: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case msdMusicnn = "MSD_musicnn", msdVGG = "MSD_vgg", mttMusicnn = "MTT_musicnn", mttVGG = "MTT_vgg"

    public var description: String { rawValue }
    public var architecture: MusicnnNetwork.Architecture {
        self == .msdMusicnn || self == .mttMusicnn ? .musicnn : .vgg
    }
    /// Trained on the Million Song Dataset's Last.fm tags (else MagnaTagATune's).
    public var isMSD: Bool { self == .msdMusicnn || self == .msdVGG }
    public var tags: [String] { isMSD ? Self.msdTags : Self.mttTags }

    /// The wheel: name, version and SHA-256 as `scripts/setup` fetches it.
    public static let wheel = "musicnn-0.1.0-py3-none-any.whl"
    public static let wheelSHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
    /// Where the wheel is unpacked under the cache folder.
    public static let unpackedFolder = "pretrained/musicnn-0.1.0"

    /// What a user does when the weights are missing.
    public static let howToGet = """
        the musicnn weights are not in the cache: run `scripts/setup` (it runs \
        `pip download --no-deps musicnn==0.1.0`, checks the wheel's SHA-256 and unpacks it into \
        $MOODDEX_CACHE_DIR/\(unpackedFolder)), or do those steps by hand
        """

    /// The checkpoint prefix (folder + "/": the files are `.index` and `.data-00000-of-00001`).
    public func checkpointPrefix(cache: URL) -> String {
        cache.appendingPathComponent("\(Self.unpackedFolder)/musicnn/\(rawValue)").path + "/"
    }

    public func isAvailable(cache: URL) -> Bool {
        FileManager.default.fileExists(atPath: converted(cache: cache).path)
            || FileManager.default.fileExists(atPath: checkpointPrefix(cache: cache) + ".index")
    }

    func converted(cache: URL) -> URL { cache.appendingPathComponent("pretrained/\(rawValue).safetensors") }

    /// The network with the released weights: from the safetensors copy in the cache, made
    /// from the TensorFlow checkpoint (every CRC checked) on first use.
    public func load(cache: URL, seed: UInt64 = 0) throws -> MusicnnNetwork {
        let net = MusicnnNetwork(architecture, outputs: tags.count, seed: seed)
        let copy = converted(cache: cache)
        if let stored = try? Safetensors.read(copy.path), stored.metadata["source"] == Self.wheelSHA256 {
            try net.loadNamed(stored.tensors, path: copy.path)
            return net
        }
        let prefix = checkpointPrefix(cache: cache)
        guard FileManager.default.fileExists(atPath: prefix + ".index") else { throw InputError(prefix, Self.howToGet) }
        try net.load(try TensorBundle(prefix: prefix))
        try Safetensors.write(net.namedTensors(), metadata: ["source": Self.wheelSHA256, "model": rawValue], to: copy)
        return net
    }

    public static let msdTags = [
        "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
        "jazz",
        "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
        "electronica", "80s",
        "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
        "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy",
        "catchy",
        "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
    ]
    public static let mttTags = [
        "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
        "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
        "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop",
        "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice",
        "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
    ]
}

extension MusicnnNetwork {
    /// Every weight and running statistic by MoodDex's layer names.
    public func namedTensors() -> [String: Safetensors.Entry] {
        var out = [String: Safetensors.Entry]()
        for p in network.parameters {
            out[p.name] = Safetensors.Entry(shape: p.value.shape, values: .f32(p.value.values))
        }
        for b in network.buffers {
            out[b.name] = Safetensors.Entry(shape: b.tensor.shape, values: .f32(b.tensor.values))
        }
        return out
    }

    /// Loads tensors saved by ``namedTensors()``, each checked for presence (unless
    /// `skippingMissing`: a new head keeps its fresh weights), shape and finiteness.
    public func loadNamed(_ tensors: [String: Safetensors.Entry], path: String, skippingMissing: Bool = false) throws {
        let targets = network.parameters.map { ($0.name, $0.value) } + network.buffers.map { ($0.name, $0.tensor) }
        for (name, tensor) in targets {
            guard let entry = tensors[name] else {
                if skippingMissing { continue }
                throw InputError(path, "no tensor \(name)")
            }
            guard entry.shape == tensor.shape else {
                throw InputError(path, "tensor \(name) has shape \(entry.shape), the network needs \(tensor.shape)")
            }
            let values = entry.floats
            guard values.allSatisfy(\.isFinite) else {
                throw InputError(path, "tensor \(name) holds NaN or infinite values")
            }
            tensor.copy(from: values)
        }
    }
}
