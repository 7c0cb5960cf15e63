// Uses three MoodDex libraries through their public API only: a log-mel spectrogram of a
// tone, a Wilson interval, and a linear layer's forward pass. It exits non-zero if any result
// is not what the library documents, so CI catches a broken public API as well as a package
// that cannot be depended on.
import Foundation
import MoodCore
import MoodMetrics
import MoodSpectrogram
import MoodTensor

func check(_ condition: Bool, _ message: String) {
    if !condition {
        FileHandle.standardError.write(Data("MoodDexConsumer: \(message)\n".utf8))
        exit(1)
    }
}

// 1 s of a 1 kHz tone at 22.05 kHz: the loudest mel band must be the one holding 1 kHz.
let parameters = SpectrogramParameters(sampleRate: 22050, nFFT: 1024, hopLength: 512, melBands: 96)
let tone = (0..<22050).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 22050)) }
let spectrogram = try LogMelSpectrogram(parameters)(tone)
check(spectrogram.bands == 96 && spectrogram.frames == 1 + 22050 / 512, "unexpected spectrogram shape")
let middle = spectrogram.frames / 2
let loudest = (0..<spectrogram.bands).max { spectrogram[$0, middle] < spectrogram[$1, middle] }!
// Band k's triangle peaks at the (k+1)-th of melBands + 2 mel-spaced edges.
let edges = MelFilterbank.melFrequencies(
    count: parameters.melBands + 2, fMin: parameters.fMin, fMax: parameters.effectiveFMax)
let centres = Array(edges.dropFirst())
check(abs(centres[loudest] - 1000) < 100, "loudest band centred at \(centres[loudest]) Hz, not near 1 kHz")

// 55 of 70 correct, the thesis's four-mood test set: Wilson 95 % interval.
let interval = Intervals.wilson(successes: 55, trials: 70)
check(interval.low > 0.67 && interval.high < 0.87, "Wilson interval \(interval.formatted())")

// A 3 -> 2 linear layer on a batch of 4: the output has shape [4, 2].
var generator = SeededGenerator(seed: 2022)
let layer = Linear(3, 2, generator: &generator)
let output = layer.forward(Tensor(shape: [4, 3]), training: false)
check(output.shape == [4, 2], "linear output shape \(output.shape)")

print(
    "MoodDexConsumer: log-mel peak at band \(loudest) (\(Int(centres[loudest])) Hz), "
        + "Wilson 55/70 = \(interval.formatted(3, scale: 100)) %, linear output \(output.shape): MoodDex works as a dependency"
)
