/// A spectrogram: `bands` rows (frequency, low to high) by `frames` columns (time),
/// stored row-major like librosa's `(n_mels, t)` arrays.
public struct Spectrogram: Sendable, Equatable {
    public var values: [Float]
    public var bands: Int
    public var frames: Int

    public init(values: [Float], bands: Int, frames: Int) {
        precondition(
            values.count == bands * frames,
            "values must hold bands x frames = \(bands * frames) numbers, got \(values.count)")
        self.values = values
        self.bands = bands
        self.frames = frames
    }

    public subscript(band: Int, frame: Int) -> Float { values[band * frames + frame] }

    /// The smallest and largest value.
    public var range: ClosedRange<Float> {
        var low = Float.infinity, high = -Float.infinity
        for v in values { low = min(low, v); high = max(high, v) }
        return low...high
    }
}
