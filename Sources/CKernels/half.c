// Float16 -> Float for stored maps. Swift's Float(Float16) is a libgcc call per value
// (__extendhfsf2) unless the whole build targets F16C; this converts eight at a time with
// F16C where the CPU has it. The conversion is exact, so both paths give the same bits.
#include "ckernels.h"
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

bool ck_has_f16c(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
}

// IEEE binary16 -> binary32 bit by bit: normals rebias the exponent, subnormals normalise,
// infinities and NaNs keep their payload (quietened as hardware does).
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        int shift = 0;
        while (!(mantissa & 0x400)) { mantissa <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

__attribute__((target("avx,f16c")))
static void convert_f16c(const uint16_t *source, float *target, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(source + i));
        _mm256_storeu_ps(target + i, _mm256_cvtph_ps(h));
    }
    for (; i < count; i++) target[i] = half_to_float(source[i]);
}

void ck_half_to_float_with(bool f16c, const uint16_t *source, float *target, long count) {
    if (f16c) { convert_f16c(source, target, count); return; }
    for (long i = 0; i < count; i++) target[i] = half_to_float(source[i]);
}

void ck_half_to_float(const uint16_t *source, float *target, long count) {
    static int available = -1;
    if (available < 0) available = ck_has_f16c();
    ck_half_to_float_with(available, source, target, count);
}
