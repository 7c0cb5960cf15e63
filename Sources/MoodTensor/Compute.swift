import CKernels
import COpenBLAS
import Foundation

/// How the layers use the CPU's cores.
///
/// The thread count is no global: each layer that splits work holds its own (``Threaded``),
/// set for a whole network by ``Layer/setThreads(_:)`` (MoodTraining's `Learner` does it from its
/// `threads` argument), so two trainings in one process each keep their own count.
/// The layers split each batch across their workers themselves and call OpenBLAS
/// with one thread: OpenBLAS's own workers spin for about 0.1 s after each call, so
/// running our threads beside 2 BLAS threads would fight for the 2 cores. Work is
/// split by a fixed rule and partial sums are added in a fixed order, so results do not
/// depend on scheduling: a given seed and thread count give bit-identical numbers.
public enum Compute {
    private static let setup: Void = { openblas_set_num_threads(1) }()

    /// The machine's cores: the usual explicit choice of a command-line run.
    public static var availableCores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body(worker, range)` for up to `workers` contiguous, fixed slices of `0..<count`,
    /// each at least `grain` long (small jobs run on the calling thread: starting workers
    /// costs more than a few thousand multiply-adds).
    public static func parallel(_ count: Int, workers: Int, grain: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        _ = setup
        let n = max(1, min(workers, count / max(grain, 1)))
        if n == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: n) { w in
            body(w, (count * w / n)..<(count * (w + 1) / n))
        }
    }

    /// Whether the matrix products run on MoodDex's own AVX2/FMA kernel (else OpenBLAS).
    public static let ownKernel = ck_has_avx2_fma()

    /// C = alpha op(A) op(B) + beta C, row-major, on the calling thread.
    ///
    /// On AVX2 + FMA CPUs (every x86-64 since about 2015) this is `ck_sgemm`: fixed blocking
    /// and summation order, so the same inputs give the same bits on every such machine (its
    /// AVX-512 micro-kernel, taken where the CPU has one, gives the AVX2 one's bits faster),
    /// where OpenBLAS picks its kernel by CPU model (and falls back to a generic SSE3 kernel
    /// on models it does not know: 31-33 GFLOPS a core here against 52-80 for our AVX2 path
    /// and 98-144 for the AVX-512 one, scripts/bench/bench_sgemm.c). Elsewhere, OpenBLAS on
    /// one thread.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if ownKernel {
            ck_sgemm(
                transposeA, transposeB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c,
                Int32(ldc))
            return
        }
        _ = setup
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Float16 storage to Float, exactly. Swift's `Float(Float16)` is a library call per value
    /// unless the whole build targets F16C; this converts eight at a time in hardware where the
    /// CPU has F16C (`ck_half_to_float`), with the same bits either way.
    @inline(__always)
    public static func convert(_ source: UnsafePointer<Float16>, to target: UnsafeMutablePointer<Float>, count: Int) {
        source.withMemoryRebound(to: UInt16.self, capacity: count) { ck_half_to_float($0, target, count) }
    }

    /// Whether ``convert(_:to:count:)`` converts in hardware (F16C) on this CPU.
    public static let hasF16C = ck_has_f16c()

    /// ``convert(_:to:count:)`` on a chosen path (`hardware` requires ``hasF16C``), for tests.
    static func convert(
        _ source: UnsafePointer<Float16>, to target: UnsafeMutablePointer<Float>, count: Int, hardware: Bool
    ) {
        source.withMemoryRebound(to: UInt16.self, capacity: count) {
            ck_half_to_float_with(hardware, $0, target, count)
        }
    }

    /// OpenBLAS's `cblas_sgemm` on one thread, for tests that hold the kernel to it.
    public static func referenceSgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = setup
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
