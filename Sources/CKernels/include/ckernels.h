#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdbool.h>

/// Whether this CPU runs the AVX2 + FMA kernels (every x86-64 since 2013-2015).
bool ck_has_avx2_fma(void);

/// C = alpha op(A) op(B) + beta C, row-major, on one thread (the caller splits work).
/// op(A) is M x K, op(B) is K x N. Blocked and packed with a 6 x 16 AVX2/FMA micro-kernel;
/// the summation order depends only on M, N, K, never on the machine, so results are the
/// same bit for bit on every AVX2 CPU. Requires ck_has_avx2_fma().
void ck_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
#endif
