import CKernels
import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// MoodDex's own matrix product against OpenBLAS's (the naive-reference rule of llm.c: the fast
/// kernel is held to an independent one), over shapes that hit every edge of its 6 x 16 and
/// 6 x 64 tiles and 256 / 96 / 2048 blocks, in all four transpose combinations, with alpha and
/// beta; and its AVX-512 path against its AVX2 path, bit for bit.
@Suite struct KernelTests {
    @Test(arguments: [
        (1, 1, 1), (7, 17, 5), (6, 16, 256), (13, 33, 257), (97, 2050, 19), (64, 300, 600), (200, 45, 1152),
    ])
    func sgemmMatchesOpenBLAS(m: Int, n: Int, k: Int) {
        var g = SeededGenerator(seed: UInt64(m * 31 + n * 7 + k))
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = (0..<(m * k)).map { _ in g.nextNormal() }, b = (0..<(k * n)).map { _ in g.nextNormal() }
            let c0 = (0..<(m * n)).map { _ in g.nextNormal() }
            var ours = c0, theirs = c0
            let lda = ta ? m : k, ldb = tb ? k : n
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    ours.withUnsafeMutableBufferPointer { pc in
                        Compute.sgemm(
                            transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                            b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: n)
                    }
                    theirs.withUnsafeMutableBufferPointer { pc in
                        Compute.referenceSgemm(
                            transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                            b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            // Float32 sums of k terms of size ~1 in two orders: a few ulps of sqrt(k).
            let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
            #expect(
                worst <= 2e-6 * Float(k).squareRoot() * 8, "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb): worst difference \(worst)"
            )
        }
    }

    /// The AVX-512 path must give the AVX2 path's bits (the promise that results do not depend
    /// on the machine), not just close numbers: every size below in each dimension, the other
    /// two drawn from the list, in all four transposes, with three alphas and three betas. An
    /// alpha of 0.7 because alpha acc is exact for 1 and 0.5, so only such an alpha tells
    /// fma(alpha, acc, C) from alpha acc + C. Leading dimensions are padded, so a write outside
    /// C shows as a difference too.
    @Test(.enabled(if: ck_has_avx512(), "this CPU has no AVX-512: only the AVX2 path runs here, nothing to compare"))
    func avx512PathGivesTheAVX2PathsBits() {
        let sizes = [1, 5, 6, 7, 13, 14, 15, 31, 32, 33, 95, 96, 97, 255, 256, 257, 300]
        var g = SeededGenerator(seed: 512)
        var shapes = [(Int, Int, Int)]()
        for s in sizes {
            func any() -> Int { sizes.randomElement(using: &g)! }
            shapes += [(s, any(), any()), (any(), s, any()), (any(), any(), s)]
        }
        var compared = 0
        for (m, n, k) in shapes {
            let pad = 3, ldc = n + pad
            func values(_ count: Int) -> [Float] { (0..<count).map { _ in 2 * g.nextUniform() - 1 } }
            let a = values((max(m, k) + pad) * max(m, k)), b = values((max(k, n) + pad) * max(k, n))
            // -0 past each row's end and in 8 rows below C: a stray write there adds alpha 0 (the
            // packed panels are zero beyond the matrix) and leaves +0, a changed bit.
            let c0 =
                (0..<m).flatMap { _ in values(n) + [Float](repeating: -0.0, count: pad) }
                + [Float](repeating: -0.0, count: 8 * ldc)
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad
                for alpha: Float in [1, 0.5, 0.7] {
                    for beta: Float in [0, 1, 0.3] {
                        var results = [[Float]]()
                        for avx512 in [false, true] {
                            var c = c0
                            c.withUnsafeMutableBufferPointer { pc in
                                ck_sgemm_with(
                                    avx512, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                                    beta, pc.baseAddress!, Int32(ldc))
                            }
                            results.append(c)
                        }
                        let same = results[0].withUnsafeBytes { x in
                            results[1].withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
                        }
                        #expect(
                            same,
                            "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb) alpha=\(alpha) beta=\(beta): the two paths' bits differ")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == sizes.count * 3 * 4 * 9)
    }

    @Test func theOwnKernelRunsOnAVX2Machines() {
        // Every machine of this project's kind has AVX2 + FMA; the OpenBLAS fallback is for others.
        #expect(Compute.ownKernel)
    }
}
