// The fused batch norm + ReLU + max pool of training for windows 4 wide with stride 4 (MoodCNN's
// 2 x 4 pools): each window's first maximum of max(0, x a + b) in row-major order, and where
// it is. The scan this replaces (MaxPool2D.scan) compares and selects value by value; here the
// maximum comes from vector max instructions, and its position from one equality mask per row
// of the window: the first element equal to the maximum is the scan's first maximum (a NaN or
// infinity in a row of windows sends that row to the scan itself, which keeps NaN).
#include "ckernels.h"
#include <immintrin.h>
#include <stdint.h>

#pragma STDC FP_CONTRACT OFF

// Batch norm's affine map then ReLU, as BatchNorm2D and ReLU compute them (two roundings).
__attribute__((target("avx2,fma"))) static inline float rectified(float v, float a, float b) {
    const float scaled = v * a;
    const float t = scaled + b;
    return t < 0 ? 0 : t;
}

__attribute__((target("avx2,fma"))) void ck_norm_relu_pool4(const float *plane, int h, int w, int kh, int sh, float a,
                                                            float b, float *y, int *argmax, float *rows,
                                                            float *column) {
    const int ho = (h - kh) / sh + 1, wo = (w - 4) / 4 + 1;
    const __m256 zero = _mm256_setzero_ps();
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int oh = 0; oh < ho; oh++) {
        const float *top = plane + (long)oh * sh * w;
        float *out = y + (long)oh * wo;
        int *at = argmax + (long)oh * wo;
        // The kh rows rectified, their column maxima, and whether all of them are finite.
        int broken = 0;
        for (int r = 0; r < kh; r++) {
            float *row = rows + (long)r * w;
            const float *source = top + (long)r * w;
            for (int q = 0; q < w; q++) {
                const float v = rectified(source[q], a, b);
                row[q] = v;
                broken |= v * 0 != 0;
            }
            if (r == 0) for (int q = 0; q < w; q++) column[q] = row[q];
            else for (int q = 0; q < w; q++) column[q] = row[q] > column[q] ? row[q] : column[q];
        }
        if (broken) {  // the scan, as MaxPool2D.scan: first maximum, NaN kept
            for (int ow = 0; ow < wo; ow++) {
                float best = rows[ow * 4], poison = 0;
                int index = ow * 4;
                for (int r = 0; r < kh; r++)
                    for (int j = 0; j < 4; j++) {
                        const int p = r * w + ow * 4 + j;
                        const float v = rows[p];
                        if (v > best) { best = v; index = p; }
                        poison += v * 0;
                    }
                out[ow] = best + poison;
                at[ow] = oh * sh * w + index;
            }
            continue;
        }
        int ow = 0;
        for (; ow + 8 <= wo; ow += 8) {  // eight windows' maxima from 32 column maxima
            const float *p = column + ow * 4;
            __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
            __m256 v2 = _mm256_loadu_ps(p + 16), v3 = _mm256_loadu_ps(p + 24);
            __m256 m01 = _mm256_max_ps(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1)));
            __m256 m23 = _mm256_max_ps(_mm256_shuffle_ps(v2, v3, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm256_shuffle_ps(v2, v3, _MM_SHUFFLE(3, 1, 3, 1)));
            __m256 most = _mm256_max_ps(_mm256_shuffle_ps(m01, m23, _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm256_shuffle_ps(m01, m23, _MM_SHUFFLE(3, 1, 3, 1)));
            _mm256_storeu_ps(out + ow, _mm256_add_ps(_mm256_permutevar8x32_ps(most, order), zero));
        }
        for (; ow < wo; ow++) {
            float most = column[ow * 4];
            for (int j = 1; j < 4; j++) most = column[ow * 4 + j] > most ? column[ow * 4 + j] : most;
            out[ow] = most + 0.0f;  // + 0: the scan's poison term (-0 -> +0)
        }
        for (ow = 0; ow < wo; ow++) {  // where: the first row, then the first column, holding it
            // Row r's four equalities in bits 4r..4r+3 (no branch per row: they mispredict).
            const __m128 target = _mm_set1_ps(out[ow]);
            unsigned found = 0;
            for (int r = 0; r < kh; r++)
                found |= (unsigned)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(rows + (long)r * w + ow * 4), target))
                         << (4 * r);
            const int k = __builtin_ctz(found);
            at[ow] = oh * sh * w + (k >> 2) * w + ow * 4 + (k & 3);
        }
    }
}
