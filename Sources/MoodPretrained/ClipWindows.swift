import MoodCore
import MoodTraining

/// Per-clip arrays that 187-frame windows are cut from: ``FrontEndMaps`` (a frozen front end's
/// output; a window is `[561, 187, 1]` for musicnn, `[128, 46, 24]` for VGG) or ``ClipLogMels``
/// (musicnn's input, `[1, 187, 96]`).
public protocol ClipWindowSource: Sendable {
    /// Frames per clip.
    var frames: [Int] { get }
    /// The shape of one window, without the batch.
    var windowShape: [Int] { get }
    /// Writes the window of `clip` starting at frame `start`, `windowShape` values.
    func window(_ clip: Int, start: Int, into destination: UnsafeMutablePointer<Float>)
    /// The distinct windows of `clip` a random crop draws from: starts `k * stride` for `k` in
    /// `0 ..< count` (by default every frame a whole window fits after).
    func randomStarts(_ clip: Int) -> (count: Int, stride: Int)
}

extension ClipWindowSource {
    public func randomStarts(_ clip: Int) -> (count: Int, stride: Int) {
        (max(1, frames[clip] - MusicnnInput.patchFrames + 1), 1)
    }

    /// The 187-frame windows a clip is tagged by: non-overlapping, from the start (at least one).
    public func gridStarts(_ clip: Int) -> [Int] {
        (0..<max(1, frames[clip] / MusicnnInput.patchFrames)).map { $0 * MusicnnInput.patchFrames }
    }
}

/// Training samples cut from a ``ClipWindowSource``: each item is a clip and a window start;
/// with augmentation a clip's window is drawn at random (random 3-s crops, as fastai would feed
/// a pretrained network), otherwise the given start is used.
public struct ClipWindows<Source: ClipWindowSource>: TrainingData {
    public let source: Source
    public let items: [(clip: Int, start: Int)]
    public let targets: Targets

    /// One item per clip: its middle window (training draws random ones instead).
    public init(_ source: Source, clips: [Int], targets: Targets) {
        precondition(targets.sampleCount == clips.count, "\(targets.sampleCount) targets for \(clips.count) clips")
        self.source = source
        items = clips.map { c in (c, max(0, (source.frames[c] - MusicnnInput.patchFrames) / 2)) }
        self.targets = targets
    }

    /// Every grid window of every clip (the tagger's patches), with placeholder targets.
    public init(gridOf source: Source, clips: [Int], outputs: Int) {
        self.source = source
        items = clips.flatMap { c in source.gridStarts(c).map { (c, $0) } }
        targets = .tags(items.map { _ in [Float](repeating: 0, count: outputs) })
    }

    public var count: Int { items.count }
    public var sampleShape: [Int] { source.windowShape }

    public func load(
        _ index: Int, into destination: UnsafeMutablePointer<Float>, augment: Bool, generator: inout SeededGenerator
    ) {
        let (clip, start) = items[index]
        let (count, stride) = source.randomStarts(clip)
        let chosen = augment && count > 1 ? Int(generator.next() % UInt64(count)) * stride : start
        source.window(clip, start: chosen, into: destination)
    }
}

/// Windows of front-end maps: what fine-tuning with a frozen front end trains on.
public typealias FrontEndWindows = ClipWindows<FrontEndMaps>
/// Windows of log-mels: what fine-tuning with a trained front end trains on.
public typealias LogMelWindows = ClipWindows<ClipLogMels>
