import CVorbis
import Foundation
import MoodCore

/// An Ogg Vorbis file through libvorbisfile: Float samples mixed to mono (the mean of the
/// channels) and resampled with the polyphase ``Resampler``. A segment is reached with
/// `ov_pcm_seek` (Ogg pages carry granule positions), then decoded with a small margin on
/// each side so the resampling filter has context at the edges.
final class OggSource {
    let path: String
    let sourceRate: Int
    let sourceChannels: Int
    let sourceFrameCount: Int
    let outputRate: Int
    let outputChannels = 1
    private var file = OggVorbis_File()
    private var position = 0  // in output frames
    private let resampler: Resampler?

    var outputFrameCount: Int { Int((Int64(sourceFrameCount) * Int64(outputRate)) / Int64(sourceRate)) }

    init(path: String, sampleRate: Int?) throws {
        self.path = path
        let status = ov_fopen(path, &file)
        guard status == 0 else {
            let reason: String
            switch status {
            case OV_ENOTVORBIS: reason = "not Ogg Vorbis audio"
            case OV_EBADHEADER: reason = "broken Vorbis header"
            case OV_EREAD: reason = "read error"
            default: reason = "libvorbisfile error \(status)"
            }
            throw InputError(path, "cannot open as Ogg Vorbis: \(reason)")
        }
        guard let info = ov_info(&file, -1) else {
            ov_clear(&file); throw InputError(path, "Ogg Vorbis file without stream information")
        }
        sourceRate = info.pointee.rate
        sourceChannels = Int(info.pointee.channels)
        let total = ov_pcm_total(&file, -1)
        guard total >= 0 else {
            ov_clear(&file); throw InputError(path, "Ogg Vorbis stream of unknown length (not seekable)")
        }
        sourceFrameCount = Int(total)
        outputRate = sampleRate ?? sourceRate
        resampler = outputRate == sourceRate ? nil : Resampler(from: sourceRate, to: outputRate)
    }

    deinit { ov_clear(&file) }

    func seek(toFrame frame: Int) throws { position = min(max(frame, 0), outputFrameCount) }

    /// Decodes `frames` output frames (all that remain when nil) from the current position.
    func read(frames: Int?) throws -> [Float] {
        let wanted = min(frames ?? outputFrameCount, outputFrameCount - position)
        guard wanted > 0 else { return [] }
        let margin = resampler == nil ? 0 : 64
        let first = max(0, position * sourceRate / outputRate - margin)
        let last = min(sourceFrameCount, (position + wanted) * sourceRate / outputRate + margin + 1)
        guard ov_pcm_seek(&file, Int64(first)) == 0 else { throw InputError(path, "cannot seek to sample \(first)") }
        var native = [Float]()
        native.reserveCapacity(last - first)
        var bitstream: Int32 = 0
        while native.count < last - first {
            var channels: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>? = nil
            let got = ov_read_float(&file, &channels, Int32(min(4096, last - first - native.count)), &bitstream)
            if got == 0 { break }
            guard got > 0, let channels else {
                throw InputError(
                    path,
                    "corrupt Ogg Vorbis data at \(String(format: "%.2f", Double(first + native.count) / Double(sourceRate))) s"
                )
            }
            let count = sourceChannels
            for i in 0..<Int(got) {
                var sum: Float = 0
                for c in 0..<count { sum += channels[c]![i] }
                native.append(sum / Float(count))
            }
        }
        var out = resampler?.resample(native) ?? native
        // Drop the leading margin (in output frames) and keep what was asked for.
        let lead = (position * sourceRate / outputRate - first) * outputRate / sourceRate
        let start = min(max(0, lead), out.count)
        out = Array(out[start...].prefix(wanted))
        position += out.count
        return out
    }
}
