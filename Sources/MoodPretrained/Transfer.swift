import Foundation
import MoodCore
import MoodTensor
import MoodTraining

extension MusicnnNetwork {
    /// The layers after the front end (musicnn: mid end, pooling, back end, head; VGG: blocks
    /// 3-5 and the head) as one trainable network over front-end windows (``FrontEndMaps``'
    /// `windowShape`). Shares its layers with `network`.
    public func tail() -> Sequential {
        let tail = Sequential(Array(network.layers[groups[1].lowerBound...]))
        network.name("")  // wrapping renamed the shared layers; keep the whole network's names
        return tail
    }

    /// Layer-group boundaries inside ``tail()``: mid end, back end, head.
    public var tailGroups: [Range<Int>] {
        let offset = groups[1].lowerBound
        return groups[1...].map { ($0.lowerBound - offset)..<($0.upperBound - offset) }
    }
}

extension MusicnnNetwork {
    /// Per-clip means over the grid windows of what layers `groups[1].lowerBound ..< end` give
    /// from front-end windows: the penultimate features with `end = embeddingEnd`, the tag
    /// logits with `end = network.layers.count` (inference mode, batches of `batchSize`).
    public func clipOutputs(
        maps: FrontEndMaps, clips: [Int], upTo end: Int, threads: Int, batchSize: Int = 32,
        transform: (Float) -> Float = { $0 }
    ) -> [[Float]] {
        clipOutputs(
            FrontEndWindows(gridOf: maps, clips: clips, outputs: 1), clips: clips, from: groups[1].lowerBound,
            upTo: end, threads: threads, batchSize: batchSize, transform: transform)
    }

    /// The same from log-mel windows through the whole network (layers `0 ..< end`).
    public func clipOutputs(
        logMels: ClipLogMels, clips: [Int], upTo end: Int, threads: Int, batchSize: Int = 32,
        transform: (Float) -> Float = { $0 }
    ) -> [[Float]] {
        clipOutputs(
            LogMelWindows(gridOf: logMels, clips: clips, outputs: 1), clips: clips, from: 0, upTo: end,
            threads: threads, batchSize: batchSize, transform: transform)
    }

    func clipOutputs<Source>(
        _ data: ClipWindows<Source>, clips: [Int], from first: Int, upTo end: Int, threads: Int, batchSize: Int,
        transform: (Float) -> Float
    ) -> [[Float]] {
        network.setThreads(threads)
        let size = data.sampleShape.reduce(1, *)
        let x = Tensor(shape: [0])
        var generator = SeededGenerator(seed: 0)
        var rows = [[Float]]()
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let n = min(batchSize, data.count - start)
            x.resize([n] + data.sampleShape)
            for i in 0..<n { data.load(start + i, into: x.data + i * size, augment: false, generator: &generator) }
            var y = x
            for layer in network.layers[first..<end] { y = layer.forward(y, training: false) }
            let width = y.count / n
            for i in 0..<n { rows.append((0..<width).map { transform(y.data[i * width + $0]) }) }
        }
        return FineTunedMusicnn.meanPerClip(rows, items: data.items, clips: clips)
    }
}
