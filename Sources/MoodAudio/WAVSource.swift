import Foundation
import MoodCore

/// A RIFF/WAVE file: PCM 8/16/24/32-bit integer or 32/64-bit float, any rate and
/// channel count (WAVE_FORMAT_EXTENSIBLE included), mixed to mono and resampled as asked.
///
/// Only the header is read at open; each read converts just the frames it needs (plus the
/// resampler's reach on either side), so a 30-s segment of a one-hour file costs memory
/// for 30 s, not for the hour. Reads are bit-identical to converting the whole file: the
/// resampler sees the same input around every output sample.
final class WAVSource {
    let path: String
    let sourceRate: Int
    let sourceChannels: Int
    let outputRate: Int
    let outputChannels: Int
    let sourceFrameCount: Int
    let outputFrameCount: Int
    private let header: WAVHeader
    private let handle: FileHandle
    private let resampler: Resampler?
    private var position = 0

    /// The most header bytes read before the data chunk (fmt, LIST and other chunks).
    static let headerLimit = 1 << 20

    init(path: String, sampleRate: Int?, mono: Bool) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path, "cannot be read (permission denied?)")
        }
        let size = try Self.fileSize(handle, path: path)
        let prefix = (try? handle.read(upToCount: min(size, Self.headerLimit))) ?? Data()
        let header = try WAVHeader(path: path, data: prefix, fileSize: size)
        self.handle = handle
        self.header = header
        sourceRate = header.sampleRate
        sourceChannels = header.channels
        sourceFrameCount = header.frameCount
        outputChannels = mono ? 1 : header.channels
        let rate = sampleRate ?? header.sampleRate
        outputRate = rate
        resampler = rate == header.sampleRate ? nil : Resampler(from: header.sampleRate, to: rate)
        outputFrameCount = resampler?.outputFrames(forInputFrames: header.frameCount) ?? header.frameCount
    }

    deinit { try? handle.close() }

    static func fileSize(_ handle: FileHandle, path: String) throws -> Int {
        do {
            let end = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            return Int(end)
        } catch { throw InputError(path, "cannot be read: \(error.localizedDescription)") }
    }

    /// Only the header: rate, channels and length without converting the samples.
    static func info(path: String) throws -> AudioInfo {
        let source = try WAVSource(path: path, sampleRate: nil, mono: false)
        return AudioInfo(
            path: path, format: .wav, sampleRate: source.sourceRate,
            channels: source.sourceChannels, frameCount: source.sourceFrameCount)
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
        guard end > position else { return [] }
        // Source frames the outputs position..<end depend on, then conversion of just those.
        let (first, last, skip) =
            resampler?.inputSpan(outputs: position..<end, inputFrames: sourceFrameCount)
            ?? (position, end, 0)
        var samples = try convert(frames: first..<last)
        if outputChannels == 1 && sourceChannels > 1 { samples = Self.mixToMono(samples, channels: sourceChannels) }
        guard let resampler else { return samples }
        let resampled = resampler.resample(samples, channels: outputChannels)
        return Array(resampled[(skip * outputChannels)..<((skip + end - position) * outputChannels)])
    }

    /// Source frames `range` as interleaved Float, read from the file.
    private func convert(frames range: Range<Int>) throws -> [Float] {
        let bytesPerFrame = header.blockAlign
        do {
            try handle.seek(toOffset: UInt64(header.dataOffset + range.lowerBound * bytesPerFrame))
            let data = try handle.read(upToCount: range.count * bytesPerFrame) ?? Data()
            guard data.count == range.count * bytesPerFrame else {
                throw InputError(
                    path,
                    "truncated WAV: the file ended while reading frame \(range.lowerBound + data.count / bytesPerFrame)"
                )
            }
            return try header.samples(from: data, frames: range.count, firstFrame: range.lowerBound, path: path)
        } catch let error as InputError { throw error } catch {
            throw InputError(path, "cannot be read: \(error.localizedDescription)")
        }
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

    /// Parses `data`, the first bytes of a file of `fileSize` bytes (at least up to the data chunk).
    init(path: String, data: Data, fileSize: Int) throws {
        func u16(_ o: Int) -> Int { Int(data[data.startIndex + o]) | Int(data[data.startIndex + o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func tag(_ o: Int) -> String {
            String(decoding: data[(data.startIndex + o)..<(data.startIndex + o + 4)], as: UTF8.self)
        }
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
                // WAVE_FORMAT_EXTENSIBLE: the real format is the sub-format GUID's first two bytes.
                if code == 0xFFFE && size >= 40 && body + 26 <= data.count { code = u16(body + 24) }
                format = (code, u16(body + 2), u32(body + 4), u16(body + 12), u16(body + 14))
            } else if id == "data" {
                var length = size
                let available = fileSize - body
                if length == 0 || length == 0xFFFF_FFFF { length = available }  // streamed writers leave the size open
                guard length <= available else {
                    throw InputError(
                        path, "truncated WAV: the data chunk announces \(length) bytes, the file holds \(available)")
                }
                dataChunk = (body, length)
                break
            }
            offset = body + size + (size & 1)
        }
        if dataChunk == nil && offset + 8 <= fileSize && data.count < fileSize {
            throw InputError(path, "unsupported WAV: the chunks before the audio data exceed \(data.count) bytes")
        }
        guard let format else { throw InputError(path, "broken WAV header: no fmt chunk") }
        guard let dataChunk else { throw InputError(path, "broken WAV header: no data chunk") }
        switch (format.code, format.bits) {
        case (1, 8), (1, 16), (1, 24), (1, 32): encoding = .integer
        case (3, 32), (3, 64): encoding = .float
        default:
            throw InputError(
                path, "unsupported WAV encoding: format code \(format.code) with \(format.bits) bits per sample")
        }
        guard (1...64).contains(format.channels) else {
            throw InputError(path, "broken WAV header: \(format.channels) channels")
        }
        guard (1000...768_000).contains(format.rate) else {
            throw InputError(path, "broken WAV header: sample rate \(format.rate) Hz")
        }
        guard format.blockAlign == format.channels * format.bits / 8 else {
            throw InputError(
                path,
                "broken WAV header: block align \(format.blockAlign) does not match \(format.channels) channels of \(format.bits) bits"
            )
        }
        channels = format.channels
        sampleRate = format.rate
        bitsPerSample = format.bits
        blockAlign = format.blockAlign
        dataOffset = dataChunk.offset
        dataSize = dataChunk.size - dataChunk.size % format.blockAlign
    }

    /// `frames` frames of raw sample bytes (`data`, starting at frame `firstFrame`) as Float in
    /// [-1, 1], interleaved; non-finite float samples are an error naming their frame.
    func samples(from data: Data, frames: Int, firstFrame: Int, path: String) throws -> [Float] {
        let count = frames * channels
        var out = [Float](repeating: 0, count: count)
        guard count > 0 else { return out }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress!
            switch (encoding, bitsPerSample) {
            case (.integer, 8):
                for i in 0..<count { out[i] = (Float(base.load(fromByteOffset: i, as: UInt8.self)) - 128) / 128 }
            case (.integer, 16):
                for i in 0..<count {
                    out[i] =
                        Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) / 32768
                }
            case (.integer, 24):
                for i in 0..<count {
                    let b = base + 3 * i
                    let v =
                        Int32(b.load(as: UInt8.self)) | Int32(b.load(fromByteOffset: 1, as: UInt8.self)) << 8
                        | Int32(Int8(bitPattern: b.load(fromByteOffset: 2, as: UInt8.self))) << 16
                    out[i] = Float(v) / 8_388_608
                }
            case (.integer, _):
                for i in 0..<count {
                    out[i] =
                        Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                        / 2_147_483_648
                }
            case (.float, 32):
                for i in 0..<count {
                    out[i] = Float(
                        bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case (.float, _):
                for i in 0..<count {
                    out[i] = Float(
                        Double(
                            bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                        ))
                }
            }
            if encoding == .float, let bad = out.firstIndex(where: { !$0.isFinite }) {
                throw InputError(
                    path, "WAV holds a non-finite sample (\(out[bad])) at frame \(firstFrame + bad / channels)")
            }
        }
        return out
    }
}
