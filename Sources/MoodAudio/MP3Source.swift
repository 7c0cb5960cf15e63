import CMPG123
import Foundation
import MoodCore

/// An MP3 file opened with libmpg123, delivering Float samples at a chosen rate.
///
/// libmpg123 negotiates the output format itself: asked for one rate and mono
/// float, it decimates (2:1, 4:1) or resamples (N:M) inside its synthesis filter
/// bank and mixes stereo to (L+R)/2, faster than any separate resampler.
final class MP3Source {
    let path: String
    private let handle: OpaquePointer
    /// The rate and channel count of the delivered samples.
    let outputRate: Int
    let outputChannels: Int
    /// The stream's own rate and channel count.
    let sourceRate: Int
    let sourceChannels: Int
    /// Exact length in delivered sample frames (from a scan of every frame header).
    let outputFrameCount: Int
    /// MPEG frame index where decoding started after the last seek (0 without a seek).
    private(set) var firstFrameDecoded = 0
    /// The file's bytes, which libmpg123 reads through callbacks: one read of the file
    /// instead of one system call per frame (a 4-minute file has about 9000 frames).
    private let stream: MemoryStream

    private static let library: Int32 = mpg123_init()

    /// Opens `path` for output at `sampleRate` (nil: the file's own rate) and
    /// `mono` or the file's own channel count.
    init(path: String, sampleRate: Int?, mono: Bool) throws {
        self.path = path
        guard let bytes = FileManager.default.contents(atPath: path) else { throw InputError(path, "cannot be read") }
        stream = MemoryStream(bytes)
        guard Self.library == MPG123_OK.rawValue else { throw InputError(path, "libmpg123 failed to initialise") }
        var error: Int32 = 0
        guard let handle = mpg123_new(nil, &error) else {
            throw InputError(
                path, "libmpg123 cannot create a decoder (\(String(cString: mpg123_plain_strerror(error))))")
        }
        self.handle = handle
        var ok = true
        ok =
            ok
            && mpg123_param2(
                handle, Int32(MPG123_ADD_FLAGS.rawValue),
                Int(MPG123_QUIET.rawValue | MPG123_GAPLESS.rawValue | MPG123_FORCE_FLOAT.rawValue), 0)
                == MPG123_OK.rawValue
        ok = ok && mpg123_format_none(handle) == MPG123_OK.rawValue
        let channelMask = mono ? Int32(MPG123_MONO.rawValue) : Int32(MPG123_MONO.rawValue | MPG123_STEREO.rawValue)
        let encoding = Int32(MPG123_ENC_FLOAT_32.rawValue)
        if let sampleRate {
            ok = ok && mpg123_format(handle, sampleRate, channelMask, encoding) == MPG123_OK.rawValue
        } else {
            var list: UnsafePointer<Int>? = nil
            var count = 0
            mpg123_rates(&list, &count)
            for i in 0..<count where ok {
                ok = mpg123_format(handle, list![i], channelMask, encoding) == MPG123_OK.rawValue
            }
        }
        guard ok else {
            mpg123_delete(handle)
            throw InputError(
                path, "libmpg123 refused the output format (\(sampleRate.map(String.init) ?? "native") Hz float)")
        }
        guard mpg123_replace_reader_handle(handle, MemoryStream.read, MemoryStream.seek, nil) == MPG123_OK.rawValue,
            mpg123_open_handle(handle, Unmanaged.passUnretained(stream).toOpaque()) == MPG123_OK.rawValue
        else {
            let message = String(cString: mpg123_strerror(handle))
            mpg123_delete(handle)
            throw InputError(path, "cannot open: \(message)")
        }
        // Reading the format parses the first frame: a file without MPEG audio fails here.
        var rate = 0, channels: Int32 = 0, enc: Int32 = 0
        guard mpg123_getformat(handle, &rate, &channels, &enc) == MPG123_OK.rawValue else {
            let message = String(cString: mpg123_strerror(handle))
            mpg123_close(handle); mpg123_delete(handle)
            throw InputError(path, "not an MP3 file: no MPEG audio frame found (\(message))")
        }
        var frameInfo = mpg123_frameinfo2()
        mpg123_info2(handle, &frameInfo)
        outputRate = rate
        outputChannels = Int(channels)
        sourceRate = frameInfo.rate
        sourceChannels = frameInfo.mode == Int32(MPG123_M_MONO.rawValue) ? 1 : 2

        // An Info/Xing tag announces the length; a scan of every frame header counts it.
        var encoderDelay = -1
        var unusedDouble = 0.0
        mpg123_getstate2(handle, Int32(MPG123_ENC_DELAY.rawValue), &encoderDelay, &unusedDouble)
        let announced = mpg123_length(handle)
        guard mpg123_scan(handle) == MPG123_OK.rawValue else {
            let message = String(cString: mpg123_strerror(handle))
            mpg123_close(handle); mpg123_delete(handle)
            throw InputError(path, "cannot scan the MPEG frames: \(message)")
        }
        let scanned = mpg123_length(handle)
        outputFrameCount = Int(max(scanned, 0))
        if encoderDelay >= 0 && announced > 0 && scanned < announced - Int(outputRate) / 20 {
            // Every stored property is set, so `deinit` runs on this throw and frees the handle.
            throw InputError(
                path,
                String(
                    format: "truncated or corrupt: its MPEG frames stop at %.2f s of the %.2f s its header announces",
                    Double(scanned) / Double(rate), Double(announced) / Double(rate)))
        }
    }

    deinit {
        mpg123_close(handle)
        mpg123_delete(handle)
    }

    /// Moves to delivered sample frame `frame` by the frame index, without decoding what lies before.
    func seek(toFrame frame: Int) throws {
        guard frame > 0 else { return }
        let position = mpg123_seek(handle, off_t(frame), SEEK_SET)
        guard position >= 0 else {
            throw InputError(path, "cannot seek to \(frame): \(String(cString: mpg123_strerror(handle)))")
        }
        firstFrameDecoded = Int(mpg123_tellframe(handle))
    }

    /// Decodes up to `frames` sample frames (all that remain when nil).
    func read(frames: Int?) throws -> [Float] {
        let wanted = frames.map { $0 * outputChannels } ?? Int.max
        var samples = [Float]()
        samples.reserveCapacity(min(wanted, (outputFrameCount + 4096) * outputChannels))
        let chunk = 16384
        var buffer = [Float](repeating: 0, count: chunk)
        while samples.count < wanted {
            var bytes = 0
            let want = min(chunk, wanted - samples.count)
            let status = buffer.withUnsafeMutableBytes {
                mpg123_read(handle, $0.baseAddress, want * MemoryLayout<Float>.size, &bytes)
            }
            let got = bytes / MemoryLayout<Float>.size
            samples.append(contentsOf: buffer[0..<got])
            if status == MPG123_DONE.rawValue { break }
            if status == MPG123_NEW_FORMAT.rawValue || status == MPG123_OK.rawValue { continue }
            if status == MPG123_NEED_MORE.rawValue { break }
            throw InputError(
                path,
                "decoding failed at \(String(format: "%.2f", Double(samples.count / outputChannels) / Double(outputRate))) s: \(String(cString: mpg123_strerror(handle)))"
            )
        }
        return samples
    }
}

/// A file's bytes in memory, served to libmpg123 through its reader callbacks.
final class MemoryStream {
    private let bytes: [UInt8]
    private var position = 0

    init(_ data: Data) { bytes = [UInt8](data) }

    static let read: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Int = {
        handle, buffer, count in
        let stream = Unmanaged<MemoryStream>.fromOpaque(handle!).takeUnretainedValue()
        let n = max(0, min(count, stream.bytes.count - stream.position))
        guard n > 0 else { return 0 }
        stream.bytes.withUnsafeBytes { source in
            buffer!.copyMemory(from: source.baseAddress! + stream.position, byteCount: n)
        }
        stream.position += n
        return n
    }

    static let seek: @convention(c) (UnsafeMutableRawPointer?, off_t, Int32) -> off_t = { handle, offset, whence in
        let stream = Unmanaged<MemoryStream>.fromOpaque(handle!).takeUnretainedValue()
        let base: Int
        switch whence {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = stream.position
        case SEEK_END: base = stream.bytes.count
        default: return -1
        }
        let target = base + Int(offset)
        guard target >= 0 && target <= stream.bytes.count else { return -1 }
        stream.position = target
        return off_t(target)
    }
}
