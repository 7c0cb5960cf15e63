import Foundation
import MoodCore

/// A RIFF/WAVE file: PCM 8/16/24/32-bit integer or 32/64-bit float, any rate and
/// channel count (WAVE_FORMAT_EXTENSIBLE included). The whole file is converted at
/// open, then mixed to mono and resampled as asked.
final class WAVSource {
    let path: String
    let sourceRate: Int
    let sourceChannels: Int
    let outputRate: Int
    let outputChannels: Int
    let sourceFrameCount: Int
    private let output: [Float]
    private var position = 0

    var outputFrameCount: Int { output.count / outputChannels }

    init(path: String, data: Data, sampleRate: Int?, mono: Bool) throws {
        self.path = path
        let header = try WAVHeader(path: path, data: data)
        sourceRate = header.sampleRate
        sourceChannels = header.channels
        sourceFrameCount = header.frameCount
        var samples = try header.samples(from: data, path: path)
        var channels = header.channels
        if mono && channels > 1 {
            samples = Self.mixToMono(samples, channels: channels)
            channels = 1
        }
        let rate = sampleRate ?? header.sampleRate
        if rate != header.sampleRate {
            samples = Resampler(from: header.sampleRate, to: rate).resample(samples, channels: channels)
        }
        outputRate = rate
        outputChannels = channels
        output = samples
    }

    /// Only the header: rate, channels and length without converting the samples.
    static func info(path: String, data: Data) throws -> AudioInfo {
        let header = try WAVHeader(path: path, data: data)
        return AudioInfo(path: path, format: .wav, sampleRate: header.sampleRate,
                         channels: header.channels, frameCount: header.frameCount)
    }

    static func mixToMono(_ samples: [Float], channels: Int) -> [Float] {
        let frames = samples.count / channels
        var mono = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        samples.withUnsafeBufferPointer { s in
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels { sum += s[f * channels + c] }
                mono[f] = sum * scale
            }
        }
        return mono
    }

    func seek(toFrame frame: Int) throws { position = min(max(frame, 0), outputFrameCount) }

    func read(frames: Int?) throws -> [Float] {
        let end = min(outputFrameCount, position + (frames ?? outputFrameCount))
        defer { position = end }
        return Array(output[position * outputChannels ..< end * outputChannels])
    }
}

/// The parsed `fmt ` and `data` chunks of a RIFF/WAVE file.
struct WAVHeader {
    enum Encoding { case integer, float }
    var encoding: Encoding
    var channels: Int
    var sampleRate: Int
    var bitsPerSample: Int
    var blockAlign: Int
    var dataOffset: Int
    var dataSize: Int
    var frameCount: Int { dataSize / blockAlign }

    init(path: String, data: Data) throws {
        func u16(_ o: Int) -> Int { Int(data[data.startIndex + o]) | Int(data[data.startIndex + o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func tag(_ o: Int) -> String { String(decoding: data[(data.startIndex + o) ..< (data.startIndex + o + 4)], as: UTF8.self) }
        guard data.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else {
            throw InputError(path, "not a WAV file: no RIFF/WAVE header")
        }
        var format: (code: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)? = nil
        var dataChunk: (offset: Int, size: Int)? = nil
        var offset = 12
        while offset + 8 <= data.count {
            let id = tag(offset), size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt " {
                guard size >= 16, body + 16 <= data.count else {
                    throw InputError(path, "broken WAV header: fmt chunk of \(size) bytes is too short")
                }
                var code = u16(body)
                if code == 0xFFFE && size >= 40 && body + 26 <= data.count { code = u16(body + 24) }  // extensible: sub-format GUID
                format = (code, u16(body + 2), u32(body + 4), u16(body + 12), u16(body + 14))
            } else if id == "data" {
                var length = size
                let available = data.count - body
                if length == 0 || length == 0xFFFF_FFFF { length = available }  // streamed writers leave the size open
                guard length <= available else {
                    throw InputError(path, "truncated WAV: the data chunk announces \(length) bytes, the file holds \(available)")
                }
                dataChunk = (body, length)
                break
            }
            offset = body + size + (size & 1)
        }
        guard let format else { throw InputError(path, "broken WAV header: no fmt chunk") }
        guard let dataChunk else { throw InputError(path, "broken WAV header: no data chunk") }
        switch (format.code, format.bits) {
        case (1, 8), (1, 16), (1, 24), (1, 32): encoding = .integer
        case (3, 32), (3, 64): encoding = .float
        default:
            throw InputError(path, "unsupported WAV encoding: format code \(format.code) with \(format.bits) bits per sample")
        }
        guard (1...64).contains(format.channels) else { throw InputError(path, "broken WAV header: \(format.channels) channels") }
        guard (1000...768_000).contains(format.rate) else { throw InputError(path, "broken WAV header: sample rate \(format.rate) Hz") }
        guard format.blockAlign == format.channels * format.bits / 8 else {
            throw InputError(path, "broken WAV header: block align \(format.blockAlign) does not match \(format.channels) channels of \(format.bits) bits")
        }
        channels = format.channels
        sampleRate = format.rate
        bitsPerSample = format.bits
        blockAlign = format.blockAlign
        dataOffset = dataChunk.offset
        dataSize = dataChunk.size - dataChunk.size % format.blockAlign
    }

    /// All samples as Float in [-1, 1], interleaved; non-finite float samples are an error.
    func samples(from data: Data, path: String) throws -> [Float] {
        let count = frameCount * channels
        var out = [Float](repeating: 0, count: count)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + dataOffset
            switch (encoding, bitsPerSample) {
            case (.integer, 8):
                for i in 0..<count { out[i] = (Float(base.load(fromByteOffset: i, as: UInt8.self)) - 128) / 128 }
            case (.integer, 16):
                for i in 0..<count { out[i] = Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) / 32768 }
            case (.integer, 24):
                for i in 0..<count {
                    let b = base + 3 * i
                    let v = Int32(b.load(as: UInt8.self)) | Int32(b.load(fromByteOffset: 1, as: UInt8.self)) << 8
                        | Int32(Int8(bitPattern: b.load(fromByteOffset: 2, as: UInt8.self))) << 16
                    out[i] = Float(v) / 8_388_608
                }
            case (.integer, _):
                for i in 0..<count { out[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) / 2_147_483_648 }
            case (.float, 32):
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case (.float, _):
                for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            }
            if encoding == .float, let bad = out.firstIndex(where: { !$0.isFinite }) {
                throw InputError(path, "WAV holds a non-finite sample (\(out[bad])) at frame \(bad / channels)")
            }
        }
        return out
    }
}
