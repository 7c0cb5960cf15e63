import MoodTraining
import Testing

/// The three Float16 hazards the thesis lists for `to_fp16()`, shown with real Float16
/// arithmetic, and why MoodDex keeps Float32 master weights and arithmetic, using Float16
/// for storage only.
@Suite struct HalfPrecisionTests {
    /// Small gradients underflow: below about 6e-8 (the smallest subnormal) they become 0.
    /// Scaling the loss by 1024 keeps them; dividing by 1024 in Float32 gets them back.
    @Test func underflowingGradientsAndLossScaling() {
        let gradient: Float = 2e-8
        #expect(Float16(gradient) == 0)
        let scaled = Float16(gradient * 1024)
        #expect(scaled != 0)
        #expect(abs(Float(scaled) / 1024 - gradient) / gradient < 1e-2)
    }

    /// Updates smaller than half a unit in the last place vanish: in Float16, 1 + 0.0001 = 1
    /// (the spacing at 1 is 2^-10 = 0.000977). Float32 master weights keep the update.
    @Test func lostWeightUpdates() {
        let weight: Float16 = 1, update: Float16 = 0.0001
        #expect(weight + update == 1)
        #expect(Float(1) + Float(0.0001) != 1)
        // Ten thousand such steps: Float16 never moves, Float32 reaches 2.
        var half: Float16 = 1, single: Float = 1
        for _ in 0..<10000 { half += update; single += 0.0001 }
        #expect(half == 1)
        #expect(abs(single - 2) < 1e-3)
    }

    /// Overflow: the largest Float16 is 65504; activations or scaled losses beyond it are infinite.
    @Test func overflow() {
        #expect(Float16.greatestFiniteMagnitude == 65504)
        let big: Float = 70000
        #expect(Float16(big).isInfinite)
        let a: Float16 = 300
        #expect((a * a).isInfinite)
        #expect((Float(300) * Float(300)).isFinite)
    }

    /// What Float16 storage buys: half the bytes for the training inputs.
    @Test func storageHalvesInputMemory() {
        let samples = (0..<4).map { i in [Float](repeating: Float(i), count: 96 * 1292) }
        let data = InMemoryData(
            samples: samples, sampleShape: [1, 96, 1292], targets: .classes([0, 1, 2, 3], count: 4))
        #expect(data.inputBytes == 4 * 96 * 1292 * 2)
    }
}
