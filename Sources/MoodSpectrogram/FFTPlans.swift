import CFFTW
import Foundation

/// Real-to-complex FFTW plans, one per size, made once and shared.
///
/// FFTW's planner is not thread-safe (Swift Testing and the feature cache run
/// spectrograms on several threads), so planning happens under a lock. Executing a
/// plan with `fftwf_execute_dft_r2c` on other arrays is thread-safe, provided they
/// share the planning arrays' alignment: every buffer comes from `fftwf_malloc`.
enum FFTPlans {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans = [Int: OpaquePointer]()

    /// The plan for a real FFT of `size` points. FFTW_ESTIMATE, not FFTW_MEASURE: a measured
    /// plan is chosen by timing, so two runs (or machines) can get different algorithms and
    /// round differently, and the reports must not depend on that.
    static func realForward(size: Int) -> OpaquePointer {
        lock.lock(); defer { lock.unlock() }
        if let plan = plans[size] { return plan }
        let input = fftwf_alloc_real(size)!
        let output = fftwf_alloc_complex(size / 2 + 1)!
        defer { fftwf_free(input); fftwf_free(output) }
        let plan = fftwf_plan_dft_r2c_1d(Int32(size), input, output, UInt32(FFTW_ESTIMATE))!
        plans[size] = plan
        return plan
    }
}
