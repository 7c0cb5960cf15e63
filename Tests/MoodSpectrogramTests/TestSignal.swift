import Foundation

/// The deterministic test signal of Tests/Scripts/test_signal.py, computed the same way
/// (float64, rounded to Float), so Swift and librosa analyse the same samples.
enum TestSignal {
    static let sampleRate = 22050
    static let length = 2 * sampleRate + 1234

    static func samples(length: Int = length, sampleRate: Int = sampleRate) -> [Float] {
        (0..<length).map { i in
            let t = Double(i) / Double(sampleRate)
            let tone = 0.5 * sin(2 * Double.pi * 440.0 * t)
            let chirp = 0.25 * sin(2 * Double.pi * (200.0 * t + 1500.0 * t * t))
            let buzz = 0.1 * sin(2 * Double.pi * 5000.0 * t) * sin(2 * Double.pi * 3.0 * t)
            return Float(tone + chirp + buzz)
        }
    }
}

func fixture(_ name: String) throws -> String {
    guard let path = Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures") else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }
    return path
}
