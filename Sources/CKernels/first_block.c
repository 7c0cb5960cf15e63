// MoodCNN's first block in evaluation, fused: a 3 x 3 convolution of a one-channel input
// (padding 1, stride 1, no bias), batch norm's affine map, ReLU and max pooling, without
// writing the convolution's output (at batch 32, 0.5 GB written and read back otherwise).
//
// Why the bits are the separate layers': each convolution output is the fma chain Conv2D's
// reference path computes through im2col and ck_sgemm (acc from 0, taps in im2col order
// (i, j) row-major, zero taps at the border included, then fma(1, acc, 0)); batch norm is
// x * scale, then + shift (two roundings, no contraction); the pool scans each window as
// MaxPool2D.scan does (the first maximum, plus v * 0 summed from +0 so NaN survives).
#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

__attribute__((target("avx2,fma"))) static void conv_row(const float *padded, int w, const float *taps,
                                                          float *out) {
    for (int c = 0; c < w; c++) out[c] = 0;
    for (int i = 0; i < 3; i++) {
        const float *line = padded + (long)i * (w + 2);
        for (int j = 0; j < 3; j++) {
            const float t = taps[i * 3 + j];
            const float *source = line + j;
            for (int c = 0; c < w; c++) out[c] = __builtin_fmaf(t, source[c], out[c]);
        }
    }
    for (int c = 0; c < w; c++) out[c] = __builtin_fmaf(1.0f, out[c], 0.0f);
}

// Batch norm's affine map then ReLU, as BatchNorm2D and ReLU compute them.
__attribute__((target("avx2,fma"))) static inline float rectified(float v, float a, float b) {
    const float scaled = v * a;
    const float t = scaled + b;
    return t < 0 ? 0 : t;
}

// One convolution output: the fma chain of ck_sgemm over the nine taps (see above).
#define CONVOLVED(p0, p1, p2, q)                                                                              \
    __builtin_fmaf(1.0f,                                                                                      \
                   __builtin_fmaf(t[8], p2[q + 2], __builtin_fmaf(t[7], p2[q + 1], __builtin_fmaf(t[6], p2[q], \
                   __builtin_fmaf(t[5], p1[q + 2], __builtin_fmaf(t[4], p1[q + 1], __builtin_fmaf(t[3], p1[q], \
                   __builtin_fmaf(t[2], p0[q + 2], __builtin_fmaf(t[1], p0[q + 1],                          \
                   __builtin_fmaf(t[0], p0[q], 0.0f))))))))),                                                \
                   0.0f)

// The kh convolved rows under one row of windows, reduced down each column as they are
// computed (in registers: no row is stored): the largest value (smallest when descending)
// into extreme. Returns whether no rectified value is NaN or infinite (every v * 0 is 0).
__attribute__((target("avx2,fma"))) static int conv_extremes(const float *top, int kh, int w, const float *t,
                                                             float a, float b, int descending, float *extreme) {
    int broken = 0;  // an integer OR, which vectorises (a float sum would not, in order)
    for (int r = 0; r < kh; r++) {
        const float *p0 = top + (long)r * (w + 2), *p1 = p0 + w + 2, *p2 = p1 + w + 2;
        if (r == 0) {
            for (int q = 0; q < w; q++) {
                const float v = CONVOLVED(p0, p1, p2, q);
                broken |= rectified(v, a, b) * 0 != 0;
                extreme[q] = v;
            }
        } else if (descending) {
            for (int q = 0; q < w; q++) {
                const float v = CONVOLVED(p0, p1, p2, q);
                broken |= rectified(v, a, b) * 0 != 0;
                extreme[q] = v < extreme[q] ? v : extreme[q];
            }
        } else {
            for (int q = 0; q < w; q++) {
                const float v = CONVOLVED(p0, p1, p2, q);
                broken |= rectified(v, a, b) * 0 != 0;
                extreme[q] = v > extreme[q] ? v : extreme[q];
            }
        }
    }
    return !broken;
}

// Windows of 4 adjacent column extremes (stride 4), eight at a time: the largest (smallest
// when descending) of each, normalised and rectified, + 0. Returns the windows done.
__attribute__((target("avx2,fma"))) static int pool4(const float *e, int wo, float a, float b, int descending,
                                                     float *out) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), zero = _mm256_setzero_ps();
    // After two rounds of pairing, lanes hold windows 0 2 4 6 | 1 3 5 7; this puts them in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int ow = 0;
    for (; ow + 8 <= wo; ow += 8) {
        const float *p = e + ow * 4;
        __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
        __m256 v2 = _mm256_loadu_ps(p + 16), v3 = _mm256_loadu_ps(p + 24);
        // Pairs (0,1) (2,3) in each 4-group, then the two pairs of each group.
        __m256 even01 = _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 odd01 = _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1));
        __m256 even23 = _mm256_shuffle_ps(v2, v3, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 odd23 = _mm256_shuffle_ps(v2, v3, _MM_SHUFFLE(3, 1, 3, 1));
        __m256 m01 = descending ? _mm256_min_ps(even01, odd01) : _mm256_max_ps(even01, odd01);
        __m256 m23 = descending ? _mm256_min_ps(even23, odd23) : _mm256_max_ps(even23, odd23);
        __m256 even = _mm256_shuffle_ps(m01, m23, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 odd = _mm256_shuffle_ps(m01, m23, _MM_SHUFFLE(3, 1, 3, 1));
        __m256 most = descending ? _mm256_min_ps(even, odd) : _mm256_max_ps(even, odd);
        most = _mm256_permutevar8x32_ps(most, order);
        __m256 t = _mm256_add_ps(_mm256_mul_ps(most, va), vb);  // two roundings, as BatchNorm2D
        t = _mm256_blendv_ps(t, zero, _mm256_cmp_ps(t, zero, _CMP_LT_OQ));
        _mm256_storeu_ps(out + ow, _mm256_add_ps(t, zero));
    }
    return ow;
}

__attribute__((target("avx2,fma"))) void ck_first_block_eval(const float *x, int h, int w, const float *weights,
                                                             const float *scale, const float *shift, int c0, int c1,
                                                             int kh, int kw, int sh, int sw, float *y,
                                                             float *scratch) {
    const int ho = (h - kh) / sh + 1, wo = (w - kw) / sw + 1;
    // The input with a border of zeros, then kh convolved rows of one row of windows and their
    // column extremes.
    float *padded = scratch, *rows = scratch + (long)(h + 2) * (w + 2);
    memset(padded, 0, sizeof(float) * (size_t)(w + 2));
    memset(padded + (long)(h + 1) * (w + 2), 0, sizeof(float) * (size_t)(w + 2));
    for (int r = 0; r < h; r++) {
        float *line = padded + (long)(r + 1) * (w + 2);
        line[0] = line[w + 1] = 0;
        memcpy(line + 1, x + (long)r * w, sizeof(float) * (size_t)w);
    }
    float *extreme = rows + (long)kh * w;
    for (int c = c0; c < c1; c++) {
        const float a = scale[c], b = shift[c];
        const int descending = a < 0;
        float *plane = y + (long)(c - c0) * ho * wo;
        for (int oh = 0; oh < ho; oh++) {
            const float *top = padded + (long)(oh * sh) * (w + 2);
            float *out = plane + (long)oh * wo;
            if (conv_extremes(top, kh, w, weights + c * 9, a, b, descending, extreme)) {
                // max(0, v a + b) never decreases in v when a >= 0 and never increases when
                // a < 0 (rounding keeps the order), so the window's largest rectified value is
                // that of its raw extreme; + 0 as the scan's poison term (-0 -> +0).
                int ow = kw == 4 && sw == 4 ? pool4(extreme, wo, a, b, descending, out) : 0;
                for (; ow < wo; ow++) {
                    const float *e = extreme + ow * sw;
                    float most = e[0];
                    if (descending) for (int j = 1; j < kw; j++) most = e[j] < most ? e[j] : most;
                    else for (int j = 1; j < kw; j++) most = e[j] > most ? e[j] : most;
                    out[ow] = rectified(most, a, b) + 0.0f;
                }
                continue;
            }
            // A NaN or infinity among these rows: the rows themselves, and the scan.
            for (int r = 0; r < kh; r++) {
                float *row = rows + (long)r * w;
                conv_row(top + (long)r * (w + 2), w, weights + c * 9, row);
                for (int q = 0; q < w; q++) row[q] = rectified(row[q], a, b);
            }
            for (int ow = 0; ow < wo; ow++) {
                float best = rows[ow * sw], poison = 0;
                for (int r = 0; r < kh; r++) {
                    const float *line = rows + (long)r * w + ow * sw;
                    for (int j = 0; j < kw; j++) {
                        const float v = line[j];
                        best = v > best ? v : best;
                        poison += v * 0;
                    }
                }
                out[ow] = best + poison;
            }
        }
    }
}
