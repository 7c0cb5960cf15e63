import ArgumentParser
import MoodAudio
import MoodSpectrogram

/// The spectrogram vocabulary on the command line, librosa's names in kebab case.
struct SpectrogramOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Sample rate in Hz.") var sampleRate = 22050
    @Option(name: .customLong("n-fft"), parsing: .unconditional, help: "FFT size in samples.") var nFFT = 1024
    @Option(parsing: .unconditional, help: "Hop between frames in samples.") var hopLength = 512
    @Option(parsing: .unconditional, help: "Number of mel bands.") var melBands = 96
    @Option(name: .customLong("f-min"), parsing: .unconditional, help: "Lowest filterbank frequency in Hz.") var fMin =
        0.0
    @Option(
        name: .customLong("f-max"), parsing: .unconditional,
        help: "Highest filterbank frequency in Hz (default: sample-rate / 2).") var fMax: Double?
    @Option(name: .customLong("top-db"), parsing: .unconditional, help: "Dynamic range kept below the peak, in dB.")
    var topDB: Float = 80
    @Option(help: "Padding of centred frames: reflect or constant.") var padMode: SpectrogramParameters.PadMode =
        .reflect

    /// librosa-style checks of the parameters, as a usage error naming the bad value.
    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError("\(error)") }
    }

    var parameters: SpectrogramParameters {
        SpectrogramParameters(
            sampleRate: sampleRate, nFFT: nFFT, hopLength: hopLength, melBands: melBands,
            fMin: fMin, fMax: fMax, topDB: topDB, padMode: padMode)
    }
}

extension SpectrogramParameters.PadMode: ExpressibleByArgument {}
extension ShortAudioPolicy: ExpressibleByArgument {}

/// Which part of a file, on the command line.
struct SegmentOptions: ParsableArguments {
    enum Choice: String, ExpressibleByArgument, CaseIterable { case first, middle, whole }

    @Option(help: "Which part of each file: first, middle or whole.") var segment: Choice = .first
    @Option(parsing: .unconditional, help: "Segment length in seconds.") var seconds = 30.0
    @Option(
        help:
            "Files shorter than the segment: pad (with zeros, when at least 3 s of audio are there), fail, or pad-any.")
    var short: ShortAudioPolicy = .pad
    @Flag(help: "Pad clips with less than 3 s of audio too (same as --short pad-any).") var padShort = false

    func validate() throws {
        guard seconds > 0, seconds.isFinite, seconds <= AudioFile.maximumSegmentSeconds else {
            throw ValidationError(
                "--seconds \(seconds): must be above 0 and at most \(Int(AudioFile.maximumSegmentSeconds))")
        }
    }

    /// The policy asked for: --pad-short wins.
    var policy: ShortAudioPolicy { padShort ? .padAny : short }

    var value: Segment {
        switch segment {
        case .first: return .first(seconds: seconds)
        case .middle: return .middle(seconds: seconds)
        case .whole: return .whole
        }
    }
}
