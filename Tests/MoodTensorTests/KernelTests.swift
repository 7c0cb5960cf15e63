import Foundation
import MoodCore
@testable import MoodTensor
import Testing

/// MoodDex's own matrix product against OpenBLAS's (the naive-reference rule of llm.c: the fast
/// kernel is held to an independent one), over shapes that hit every edge of its 6 x 16 tiles
/// and 256 / 96 / 2048 blocks, in all four transpose combinations, with alpha and beta.
@Suite struct KernelTests {
    @Test(arguments: [(1, 1, 1), (7, 17, 5), (6, 16, 256), (13, 33, 257), (97, 2050, 19), (64, 300, 600), (200, 45, 1152)])
    func sgemmMatchesOpenBLAS(m: Int, n: Int, k: Int) {
        var g = SeededGenerator(seed: UInt64(m * 31 + n * 7 + k))
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = (0..<(m * k)).map { _ in g.nextNormal() }, b = (0..<(k * n)).map { _ in g.nextNormal() }
            let c0 = (0..<(m * n)).map { _ in g.nextNormal() }
            var ours = c0, theirs = c0
            let lda = ta ? m : k, ldb = tb ? k : n
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                ours.withUnsafeMutableBufferPointer { pc in
                    Compute.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                                  b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: n)
                }
                theirs.withUnsafeMutableBufferPointer { pc in
                    Compute.referenceSgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                                           b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: n)
                }
            } }
            // Float32 sums of k terms of size ~1 in two orders: a few ulps of sqrt(k).
            let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
            #expect(worst <= 2e-6 * Float(k).squareRoot() * 8, "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb): worst difference \(worst)")
        }
    }

    @Test func theOwnKernelRunsOnAVX2Machines() {
        // Every machine of this project's kind has AVX2 + FMA; the OpenBLAS fallback is for others.
        #expect(Compute.ownKernel)
    }
}
