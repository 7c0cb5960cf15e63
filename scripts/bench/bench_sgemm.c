// Single-thread GFLOPS of ck_sgemm's AVX2 and AVX-512 paths beside OpenBLAS, on the shapes of
// our convolutions (best of R rounds, the three taking turns so a busy neighbour hurts each
// alike), and a check that the two paths give the same bits. Run from the repository root:
//   gcc -O2 -ISources/CKernels/include scripts/bench/bench_sgemm.c Sources/CKernels/sgemm.c $(pkg-config --cflags --libs openblas) -o /tmp/bench_sgemm
//   OPENBLAS_NUM_THREADS=1 /tmp/bench_sgemm [rounds] [NN|NT|TN|TT]
#include "ckernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *openblas_get_corename(void);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    const int shapes[][3] = {{128, 4096, 1152}, {204, 11220, 266}, {64, 2048, 576}, {512, 512, 512}};
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    bool ta = argc > 2 && argv[2][0] == 'T', tb = argc > 2 && argv[2][1] == 'T';
    bool avx512 = ck_has_avx512();
    printf("op %c%c, best of %d; OpenBLAS core %s; AVX-512 %s\n", ta ? 'T' : 'N', tb ? 'T' : 'N', rounds,
           openblas_get_corename(), avx512 ? "yes" : "no (its column is AVX2 again)");
    printf("%-18s %8s %8s %8s  bits\n", "M x N x K", "AVX2", "AVX-512", "OpenBLAS");
    for (int s = 0; s < 4; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], lda = ta ? M : K, ldb = tb ? K : N;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C[3] = {malloc(sizeof(float) * M * N), malloc(sizeof(float) * M * N), malloc(sizeof(float) * M * N)};
        srand(s);
        for (long i = 0; i < (long)M * K; i++) A[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (long i = 0; i < (long)K * N; i++) B[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        double best[3] = {1e30, 1e30, 1e30};
        for (int r = 0; r < rounds; r++)
            for (int v = 0; v < 3; v++) {
                double t0 = now();
                if (v < 2) ck_sgemm_with(v == 1 && avx512, ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C[v], N);
                else cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                                 M, N, K, 1, A, lda, B, ldb, 0, C[v], N);
                double t = now() - t0;
                if (t < best[v]) best[v] = t;
            }
        bool same = memcmp(C[0], C[1], sizeof(float) * M * N) == 0;
        char name[32];
        snprintf(name, sizeof name, "%d x %d x %d", M, N, K);
        printf("%-18s %8.1f %8.1f %8.1f  %s\n", name, 2e-9 * M * N * K / best[0], 2e-9 * M * N * K / best[1],
               2e-9 * M * N * K / best[2], same ? "same" : "DIFFER");
        free(A); free(B); free(C[0]); free(C[1]); free(C[2]);
    }
}
