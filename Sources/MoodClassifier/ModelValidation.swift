import Foundation
import MoodCore
import MoodSpectrogram

/// Checks of a model folder as it is loaded: a hand-edited or damaged `model.json` or
/// `model.safetensors` gives one clear error, never an abort (a pool of 0, a huge
/// segment) or a silent wrong answer (std 0 or a NaN weight makes every probability NaN).
extension MoodModel.Settings {
    /// The network's four max pools shrink the input by 24 (bands) and 320 (frames).
    static let minimumShape = (bands: 24, frames: 320)
    static let segments = ["first", "middle"]

    /// Throws an `InputError` naming `path` (the model.json) and the first setting out of range.
    public func validate(path: String) throws {
        func bad(_ name: String, _ value: Any, _ requirement: String) -> InputError {
            InputError(path, "setting \(name) = \(value): \(requirement)")
        }
        guard moods.count >= 2, moods.count <= 256 else { throw bad("moods", moods, "must name 2 to 256 moods") }
        guard Set(moods).count == moods.count else { throw bad("moods", moods, "must not repeat a mood") }
        guard
            moods.allSatisfy({
                !$0.isEmpty && $0.count <= 64
                    && !$0.unicodeScalars.contains { $0.properties.generalCategory == .control }
            })
        else {
            throw bad("moods", moods, "each must be a name of 1 to 64 printable characters")
        }
        guard channels.count == 4, channels.allSatisfy({ (1...1024).contains($0) }) else {
            throw bad("channels", channels, "must be four widths from 1 to 1024")
        }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else {
            throw bad("dropout", dropout, "must be from 0 to below 1")
        }
        guard Self.segments.contains(segment) else { throw bad("segment", segment, "must be first or middle") }
        guard segmentSeconds.isFinite, segmentSeconds >= 1, segmentSeconds <= 600 else {
            throw bad("segmentSeconds", segmentSeconds, "must be from 1 to 600 seconds")
        }
        let parameters = SpectrogramParameters()
        let frames = parameters.frameCount(forSamples: Int(segmentSeconds * Double(parameters.sampleRate)))
        guard pool.count == 2, (1...parameters.melBands / Self.minimumShape.bands).contains(pool[0]),
            (1...max(1, frames / Self.minimumShape.frames)).contains(pool[1])
        else {
            throw bad(
                "pool", pool,
                "must be [bands, frames] with 1 to \(parameters.melBands / Self.minimumShape.bands) bands and "
                    + "1 to \(max(1, frames / Self.minimumShape.frames)) frames per cell for \(segmentSeconds) s segments"
            )
        }
        guard shape.frames >= Self.minimumShape.frames else {
            throw bad(
                "segmentSeconds", segmentSeconds,
                "too short for the network: \(shape.frames) pooled frames, it needs \(Self.minimumShape.frames)")
        }
        guard mean.isFinite else { throw bad("mean", mean, "must be a finite number") }
        guard std.isFinite, std > 0 else { throw bad("std", std, "must be a finite number above 0") }
        guard (1...4096).contains(batchSize) else { throw bad("batchSize", batchSize, "must be from 1 to 4096") }
        // Training-only settings (epochs, maxLR, weightDecay, augment) do not affect a loaded model.
    }
}

extension MoodModel {
    /// Throws unless every weight is a finite number (one NaN makes every prediction NaN).
    static func checkFinite(_ tensors: [String: Safetensors.Entry], path: String) throws {
        for name in tensors.keys.sorted() {
            let values = tensors[name]!.floats
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw InputError(
                    path, "tensor \(name) holds a non-finite value (\(values[bad])) at index \(bad): damaged weights")
            }
        }
    }
}
