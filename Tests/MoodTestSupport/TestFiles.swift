import Foundation

/// A fresh temporary folder for one test.
public func temporaryFolder(_ label: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent(
            "mooddex-tests-\(getpid())-\(label.filter(\.isLetter))-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Frequency of a steady tone from its zero crossings (rising and falling).
public func zeroCrossingFrequency(_ x: ArraySlice<Float>, sampleRate: Int) -> Double {
    var crossings = 0
    var previous = x.first ?? 0
    for v in x.dropFirst() {
        if (previous < 0) != (v < 0) { crossings += 1 }
        previous = v
    }
    return Double(crossings) / 2 / (Double(x.count) / Double(sampleRate))
}

/// A RIFF/WAVE file of interleaved samples, encoded as `format` (1 PCM, 3 float) with `bits`.
public func wavData(_ samples: [Float], channels: Int, sampleRate: Int, format: Int = 1, bits: Int = 16) -> Data {
    var body = Data()
    for s in samples {
        switch (format, bits) {
        case (1, 8): body.append(UInt8(clamping: Int((s * 128).rounded()) + 128))
        case (1, 16): withUnsafeBytes(of: Int16((s * 32767).rounded()).littleEndian) { body.append(contentsOf: $0) }
        case (1, 24):
            let v = Int32((s * 8_388_607).rounded())
            body.append(contentsOf: [
                UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16),
            ])
        case (3, 32): withUnsafeBytes(of: s.bitPattern.littleEndian) { body.append(contentsOf: $0) }
        default: fatalError("unsupported test encoding")
        }
    }
    func u32(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).littleEndian) { Data($0) } }
    func u16(_ v: Int) -> Data { withUnsafeBytes(of: UInt16(v).littleEndian) { Data($0) } }
    let blockAlign = channels * bits / 8
    var data = Data("RIFF".utf8) + u32(36 + body.count) + Data("WAVE".utf8)
    data += Data("fmt ".utf8) + u32(16) + u16(format) + u16(channels) + u32(sampleRate)
    data += u32(sampleRate * blockAlign) + u16(blockAlign) + u16(bits)
    data += Data("data".utf8) + u32(body.count) + body
    return data
}

public func sine(_ frequency: Double, seconds: Double, sampleRate: Int, amplitude: Double = 0.5) -> [Float] {
    (0..<Int(seconds * Double(sampleRate))).map {
        Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate)))
    }
}
