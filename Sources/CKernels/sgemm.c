// A deterministic single-threaded SGEMM: GotoBLAS-style blocking (KC x MC blocks of A and
// KC x NC blocks of B packed into MR- and NR-wide panels) around a register tile: 6 x 16 with
// AVX2, 6 x 64 with AVX-512. Why our own: OpenBLAS picks its kernel by CPU model (and falls
// back to a slow generic one on CPUs it does not know), so its results and speed change from
// machine to machine.
//
// Why both tiles give the same bits: each C element gets acc = an fma chain over the k of one
// KC block (k ascending, from 0), then C = fma(alpha, acc, C), block after block. That order
// depends on K and KC only; the tile decides which elements are computed together, not how.
#include "ckernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// MR is shared by both kernels (so is the packing of A); NR is 16 (AVX2) or 64 (AVX-512),
// and both divide NC, so a packed NC block never outgrows its buffer.
enum { MR = 6, KC = 256, MC = 96, NC = 2048 };

bool ck_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool ck_has_avx512(void) {
    // The runtimes behind __builtin_cpu_supports (libgcc since 7.4/8, compiler-rt) also ask
    // xgetbv whether the OS saves the mask and zmm registers, so this is false where the OS or
    // hypervisor keeps AVX-512 off even though cpuid lists it.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && ck_has_avx2_fma();
}

// Packing buffers, one pair per thread, allocated once (a fresh 2-MB allocation per call
// costs page faults that small products cannot pay for).
static _Thread_local float *packedA, *packedB;

// Panels of MR rows: for each k, MR consecutive values (zero beyond the matrix edge). The
// loops follow the source's contiguous axis, so packing reads memory in order.
static void packA(bool t, const float *A, int lda, int i0, int mc, int k0, int kc, float *out) {
    for (int p = 0; p < mc; p += MR, out += MR * kc) {
        int rows = mc - p < MR ? mc - p : MR;
        if (rows < MR) memset(out, 0, sizeof(float) * MR * kc);
        if (t) {
            for (int k = 0; k < kc; k++) for (int r = 0; r < rows; r++) out[k * MR + r] = A[(long)(k0 + k) * lda + i0 + p + r];
        } else {
            for (int r = 0; r < rows; r++) {
                const float *row = A + (long)(i0 + p + r) * lda + k0;
                for (int k = 0; k < kc; k++) out[k * MR + r] = row[k];
            }
        }
    }
}

// Panels of nr columns: for each k, nr consecutive values (zero beyond the edge). From a
// transposed B, 16 k at a time: a whole 64-wide panel (64 KB) column by column overflows L1
// and ran at half speed.
static void packB(bool t, const float *B, int ldb, int k0, int kc, int j0, int nc, int nr, float *out) {
    for (int p = 0; p < nc; p += nr, out += nr * kc) {
        int cols = nc - p < nr ? nc - p : nr;
        if (cols < nr) memset(out, 0, sizeof(float) * nr * kc);
        if (t) {
            for (int kb = 0; kb < kc; kb += 16) {
                int ke = kc - kb < 16 ? kc - kb : 16;
                for (int c = 0; c < cols; c++) {
                    const float *column = B + (long)(j0 + p + c) * ldb + k0 + kb;
                    for (int k = 0; k < ke; k++) out[(kb + k) * nr + c] = column[k];
                }
            }
        } else {
            for (int k = 0; k < kc; k++) memcpy(out + k * nr, B + (long)(k0 + k) * ldb + j0 + p, sizeof(float) * cols);
        }
    }
}

typedef void Kernel(int kc, const float *a, const float *b, float alpha, float *C, int ldc, int rows, int cols);

// acc[6][16] = sum_k a[k][r] b[k][c]; then C[r][c] += alpha acc for the rows x cols in range.
// Loops unrolled by pragma, as in kernel6x64: clang, given 12 named accumulators, spilled two
// and shuffled registers in the k loop (about 30 % slower); GCC was fine either way.
__attribute__((target("avx2,fma")))
static void kernel6x16(int kc, const float *a, const float *b, float alpha, float *C, int ldc, int rows, int cols) {
    enum { NR = 16 };
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++, a += MR, b += NR) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]); acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha);
    if (rows == MR && cols == NR) {
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            float *row = C + (long)r * ldc;
            _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[r][0], _mm256_loadu_ps(row)));
            _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, acc[r][1], _mm256_loadu_ps(row + 8)));
        }
    } else {
        float tile[MR][NR];
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) { _mm256_storeu_ps(tile[r], acc[r][0]); _mm256_storeu_ps(tile[r] + 8, acc[r][1]); }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) C[(long)r * ldc + c] = __builtin_fmaf(alpha, tile[r][c], C[(long)r * ldc + c]);
    }
}

// The same per element as kernel6x16, 64 columns wide: 24 zmm accumulators of the 32 (6 x 64
// measured fastest here of 14x32, 12x32, 8x48 and 6x64, and it keeps MR and packA as they were).
// At the matrix edge the loads and stores are masked; each lane's fma is exactly rounded, so
// it gives the bits of the scalar fmaf of kernel6x16's edge path.
__attribute__((target("avx512f,fma")))
static void kernel6x64(int kc, const float *a, const float *b, float alpha, float *C, int ldc, int rows, int cols) {
    enum { NR = 64, V = NR / 16 };
    __m512 acc[MR][V];
    // Unrolled in full so the accumulators live in registers (neither GCC nor clang does at -O2
    // without the pragmas: both then keep some in memory).
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++, a += MR, b += NR) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32), b3 = _mm512_loadu_ps(b + 48);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]); acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(ar, b2, acc[r][2]); acc[r][3] = _mm512_fmadd_ps(ar, b3, acc[r][3]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int n = cols - 16 * v;  // columns of this vector inside the matrix
        __mmask16 m = n >= 16 ? 0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            if (r >= rows || !m) continue;
            float *p = C + (long)r * ldc + 16 * v;
            _mm512_mask_storeu_ps(p, m, _mm512_fmadd_ps(va, acc[r][v], _mm512_maskz_loadu_ps(m, p)));
        }
    }
}

void ck_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    ck_sgemm_with(ck_has_avx512(), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void ck_sgemm_with(bool avx512, bool transA, bool transB, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    for (int i = 0; i < M; i++) {
        float *row = C + (long)i * ldc;
        if (beta == 0) memset(row, 0, (size_t)N * sizeof(float));
        else if (beta != 1) for (int j = 0; j < N; j++) row[j] *= beta;
    }
    if (K <= 0 || alpha == 0) return;
    if (!packedA) {
        packedA = aligned_alloc(64, sizeof(float) * MC * KC);
        packedB = aligned_alloc(64, sizeof(float) * KC * NC);
    }
    Kernel *kernel = avx512 ? kernel6x64 : kernel6x16;
    int nr = avx512 ? 64 : 16;
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nc = N - j0 < NC ? N - j0 : NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = K - k0 < KC ? K - k0 : KC;
            packB(transB, B, ldb, k0, kc, j0, nc, nr, packedB);
            for (int i0 = 0; i0 < M; i0 += MC) {
                int mc = M - i0 < MC ? M - i0 : MC;
                packA(transA, A, lda, i0, mc, k0, kc, packedA);
                for (int jp = 0; jp < nc; jp += nr) {
                    int cols = nc - jp < nr ? nc - jp : nr;
                    for (int ip = 0; ip < mc; ip += MR) {
                        int rows = mc - ip < MR ? mc - ip : MR;
                        kernel(kc, packedA + (long)ip * kc, packedB + (long)jp * kc, alpha,
                               C + (long)(i0 + ip) * ldc + j0 + jp, ldc, rows, cols);
                    }
                }
            }
        }
    }
}
