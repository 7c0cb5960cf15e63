import ArgumentParser
import Foundation
import MoodAudio
import MoodPlot
import MoodSpectrogram

struct SpectrogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Draw a file's log-mel spectrogram as a PNG (the thesis's figures 7 and 20).")

    @Argument(help: "An MP3, WAV or Ogg Vorbis file.") var file: String
    @Option(name: .shortAndLong, help: "The PNG to write.") var output: String
    @OptionGroup var segment: SegmentOptions
    @OptionGroup var spectrogram: SpectrogramOptions

    func run() throws {
        let parameters = spectrogram.parameters
        let audio = try AudioFile.decode(
            file, sampleRate: parameters.sampleRate, segment: segment.value, short: segment.policy)
        let values = try LogMelSpectrogram(parameters)(audio)
        try SpectrogramPicture.figure(
            values, parameters: parameters,
            title: "\(URL(fileURLWithPath: file).lastPathComponent), \(segment.value)"
        )
        .render(to: URL(fileURLWithPath: output))
        print(
            "\(output): \(values.bands) mel bands x \(values.frames) frames, \(String(format: "%.1f", values.range.lowerBound)) to \(String(format: "%.1f", values.range.upperBound)) dB"
        )
    }
}

/// A log-mel spectrogram as a heatmap with time in seconds and frequencies in Hz on the mel axis.
enum SpectrogramPicture {
    static func figure(_ values: Spectrogram, parameters: SpectrogramParameters, title: String) -> HeatmapFigure {
        let low = MelFilterbank.hzToMel(parameters.fMin), high = MelFilterbank.hzToMel(parameters.effectiveFMax)
        let bands = Double(values.bands)
        let tics: [(Double, String)] = [0, 250, 500, 1000, 2000, 4000, 8000, 16000]
            .filter { $0 >= parameters.fMin && $0 <= parameters.effectiveFMax }
            .map { hz in
                (
                    (MelFilterbank.hzToMel(hz) - low) / (high - low) * (bands + 1) - 1,
                    hz >= 1000 ? "\(Int(hz / 1000))k" : "\(Int(hz))"
                )
            }
        return HeatmapFigure(
            values: values.values, rows: values.bands, columns: values.frames, title: title,
            xLabel: "time (s)", yLabel: "frequency (Hz, mel scale)", colourLabel: "dB",
            columnWidth: Double(parameters.hopLength) / Double(parameters.sampleRate), yTics: tics)
    }
}
