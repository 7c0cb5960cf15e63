#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdbool.h>
#include <stdint.h>

/// Whether this CPU runs the AVX2 + FMA kernels (every x86-64 since 2013-2015).
bool ck_has_avx2_fma(void);

/// Whether this CPU and OS run the AVX-512 kernel (AVX-512F, with the zmm state enabled).
bool ck_has_avx512(void);

/// C = alpha op(A) op(B) + beta C, row-major, on one thread (the caller splits work).
/// op(A) is M x K, op(B) is K x N. Blocked and packed around a 6 x 64 AVX-512 micro-kernel
/// where the CPU has one, else a 6 x 16 AVX2/FMA one. The summation order depends only on
/// M, N, K, never on the machine or the kernel, so results are the same bit for bit on every
/// AVX2 CPU, with or without AVX-512. Requires ck_has_avx2_fma().
void ck_sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/// ck_sgemm on a chosen micro-kernel: AVX-512 (requires ck_has_avx512()) or AVX2. Both give
/// identical bits; this is for tests and benchmarks that compare them on one machine.
void ck_sgemm_with(bool avx512, bool transA, bool transB, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/// MoodCNN's first block in evaluation for one sample: conv 3 x 3 of a one-channel `x` [h, w]
/// (padding 1, stride 1, no bias; `weights` [C, 9]) -> `* scale[c] + shift[c]` -> max(0, .)
/// -> max pool (kh x kw windows, stride sh x sw), for channels c0..<c1 into `y`
/// [c1 - c0, ho, wo]. The same bits as Conv2D's reference path (ck_sgemm), BatchNorm2D,
/// ReLU and MaxPool2D one after another. `scratch` holds (h + 2)(w + 2) + (kh + 1) w floats.
/// Requires ck_has_avx2_fma().
void ck_first_block_eval(const float *x, int h, int w, const float *weights, const float *scale,
                         const float *shift, int c0, int c1, int kh, int kw, int sh, int sw, float *y,
                         float *scratch);

/// The fused batch norm + ReLU + max pool of training on one plane `[h, w]`, for windows kh x 4
/// (kh <= 8) with stride sh x 4: `y` [ho, wo] gets each window's first maximum (row-major) of
/// `max(0, x * a + b)` (NaN when the window holds NaN or infinity) and `argmax` its position in
/// the plane, as MaxPool2D.scan finds them. `rows` holds kh w floats, `column` w.
/// Requires ck_has_avx2_fma().
void ck_norm_relu_pool4(const float *plane, int h, int w, int kh, int sh, float a, float b, float *y,
                        int *argmax, float *rows, float *column);

/// Whether this CPU converts Float16 in hardware (F16C).
bool ck_has_f16c(void);

/// `count` IEEE binary16 values (their bits) to Float, exactly: eight at a time with F16C where
/// the CPU has it, else bit by bit. Both paths give the same bits (NaNs stay NaN, quietened).
void ck_half_to_float(const uint16_t *source, float *target, long count);

/// ck_half_to_float on a chosen path (F16C requires ck_has_f16c()), for tests that compare them.
void ck_half_to_float_with(bool f16c, const uint16_t *source, float *target, long count);
#endif
