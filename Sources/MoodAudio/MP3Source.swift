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

    private static let library: Int32 = mpg123_init()

    /// Opens `path` for output at `sampleRate` (nil: the file's own rate) and
    /// `mono` or the file's own channel count.
    init(path: String, sampleRate: Int?, mono: Bool) throws {
        self.path = path
        guard Self.library == MPG123_OK.rawValue else { throw InputError(path, "libmpg123 failed to initialise") }
        var error: Int32 = 0
        guard let handle = mpg123_new(nil, &error) else {
            throw InputError(path, "libmpg123 cannot create a decoder (\(String(cString: mpg123_plain_strerror(error))))")
        }
        self.handle = handle
        var ok = true
        ok = ok && mpg123_param2(handle, Int32(MPG123_ADD_FLAGS.rawValue),
                                 Int(MPG123_QUIET.rawValue | MPG123_GAPLESS.rawValue | MPG123_FORCE_FLOAT.rawValue), 0) == MPG123_OK.rawValue
        ok = ok && mpg123_format_none(handle) == MPG123_OK.rawValue
        let channelMask = mono ? Int32(MPG123_MONO.rawValue) : Int32(MPG123_MONO.rawValue | MPG123_STEREO.rawValue)
        let encoding = Int32(MPG123_ENC_FLOAT_32.rawValue)
        if let sampleRate {
            ok = ok && mpg123_format(handle, sampleRate, channelMask, encoding) == MPG123_OK.rawValue
        } else {
            var list: UnsafePointer<Int>? = nil
            var count = 0
            mpg123_rates(&list, &count)
            for i in 0..<count where ok { ok = mpg123_format(handle, list![i], channelMask, encoding) == MPG123_OK.rawValue }
        }
        guard ok else {
            mpg123_delete(handle)
            throw InputError(path, "libmpg123 refused the output format (\(sampleRate.map(String.init) ?? "native") Hz float)")
        }
        guard mpg123_open(handle, path) == MPG123_OK.rawValue else {
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
            throw InputError(path, String(format: "truncated or corrupt: its MPEG frames stop at %.2f s of the %.2f s its header announces",
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
        guard position >= 0 else { throw InputError(path, "cannot seek to \(frame): \(String(cString: mpg123_strerror(handle)))") }
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
            samples.append(contentsOf: buffer[0 ..< got])
            if status == MPG123_DONE.rawValue { break }
            if status == MPG123_NEW_FORMAT.rawValue || status == MPG123_OK.rawValue { continue }
            if status == MPG123_NEED_MORE.rawValue { break }
            throw InputError(path, "decoding failed at \(String(format: "%.2f", Double(samples.count / outputChannels) / Double(outputRate))) s: \(String(cString: mpg123_strerror(handle)))")
        }
        return samples
    }
}
