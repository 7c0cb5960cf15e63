// Milliseconds and GFLOPS of oneDNN's inference convolution (Sources/CDNNL) on the shapes of
// musicnn's and VGG's convolutions, batch 32, with NCHW kept inside (im2col + jit gemm) and with
// oneDNN's blocked layouts (brgconv, reorders in and out included); best of R rounds, the two
// taking turns so a busy neighbour hurts each alike. Run from the repository root:
//   gcc -O2 -ISources/CDNNL/include scripts/bench/bench_dnnl_conv.c Sources/CDNNL/cdnnl.c -ldnnl -lgomp -o /tmp/bench_dnnl_conv
//   /tmp/bench_dnnl_conv [threads] [rounds] [bf16: 0|1]
#include "cdnnl.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 3, bf16 = argc > 3 ? atoi(argv[3]) : 0;
    static const int shapes[][11] = {  // n cin h w cout kh kw sh sw ph pw
        {32, 1, 187, 96, 204, 7, 38, 1, 1, 3, 0}, {32, 1, 187, 96, 204, 7, 67, 1, 1, 3, 0},  // timbral
        {32, 1, 314, 96, 51, 128, 1, 1, 1, 0, 0}, {32, 1, 218, 96, 51, 32, 1, 1, 1, 0, 0},   // temporal (padded)
        {32, 561, 187, 1, 64, 7, 1, 1, 1, 3, 0},                                              // mid end
        {32, 1, 187, 96, 128, 3, 3, 1, 1, 1, 1}, {32, 128, 93, 48, 128, 3, 3, 1, 1, 1, 1}};  // VGG 1, 2
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int *p = shapes[s];
        int ho = (p[2] + 2 * p[9] - p[5]) / p[7] + 1, wo = (p[3] + 2 * p[10] - p[6]) / p[8] + 1;
        size_t nx = (size_t)p[0] * p[1] * p[2] * p[3], ny = (size_t)p[0] * p[4] * ho * wo, nw = (size_t)p[4] * p[1] * p[5] * p[6];
        float *x = malloc(nx * 4), *y = malloc(ny * 4), *w = malloc(nw * 4), *b = calloc((size_t)p[4], 4);
        for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 7) - 3;
        for (size_t i = 0; i < nw; i++) w[i] = (float)(i % 5) * 0.1f;
        cdnnl_conv *c[2];
        char error[256];
        for (int layout = 0; layout < 2; layout++) {
            c[layout] = cdnnl_conv_create(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], 1, bf16, layout, threads,
                                          error, sizeof error);
            if (!c[layout]) { fprintf(stderr, "%s\n", error); return 1; }
            cdnnl_conv_set_weights(c[layout], w, b);
            cdnnl_conv_run(c[layout], x, y);
        }
        double best[2] = {1e9, 1e9};
        for (int r = 0; r < rounds; r++) {
            for (int layout = 0; layout < 2; layout++) {
                double t = now();
                cdnnl_conv_run(c[layout], x, y);
                t = now() - t;
                if (t < best[layout]) best[layout] = t;
            }
        }
        double flops = 2.0 * (double)ny * p[1] * p[5] * p[6];
        printf("%2dx%3dx%3dx%2d * %3dx%3dx%2d:", p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
        for (int layout = 0; layout < 2; layout++) {
            printf("  %s %6.1f ms %5.1f GFLOPS (%s)", layout ? "blocked" : "nchw", 1e3 * best[layout], flops / best[layout] / 1e9,
                   cdnnl_conv_implementation(c[layout]));
            cdnnl_conv_destroy(c[layout]);
        }
        printf("\n");
        free(x); free(y); free(w); free(b);
    }
    return 0;
}
