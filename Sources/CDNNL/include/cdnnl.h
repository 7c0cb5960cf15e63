// A small C face on oneDNN (libdnnl, C API) for MoodDex's convolutions: a forward-inference
// convolution, NCHW float in and out, with its weights reordered once (cdnnl.c), and a training
// one with its forward and both backward passes (cdnnl_train.c).
#ifndef CDNNL_H
#define CDNNL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cdnnl_conv cdnnl_conv;

/// A forward-inference convolution of `n x cin x h x w` float input (NCHW), weights
/// `cout x cin x kh x kw`, stride (sh, sw), zero padding (ph, pw) on both sides, optional bias.
/// oneDNN picks the kernel; `bf16` computes with bfloat16 input and weights (float output).
/// `layout` 0 keeps input and output NCHW inside, 1 lets oneDNN choose blocked layouts (reordered
/// to and from NCHW around the convolution), -1 picks by `cin` (blocked from 16 channels). The primitive is built for `threads` OpenMP threads and must be run
/// with the same count. NULL on failure, with a message in `error`.
cdnnl_conv *cdnnl_conv_create(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw,
                              int has_bias, int bf16, int layout, int threads, char *error, int error_length);
/// Copies (reorders) the weights `[cout, cin, kh, kw]` and bias `[cout]` (NULL when none) into the
/// primitive's own layout. 0 on success.
int cdnnl_conv_set_weights(cdnnl_conv *conv, const float *weights, const float *bias);
/// y = conv(x), both NCHW float; runs on the calling thread and `threads - 1` OpenMP workers (MoodDex
/// passes 1 and splits the batch over its own workers, one convolution each: distinct convolutions
/// may run on different threads at once, one convolution on one thread at a time). 0 on success.
int cdnnl_conv_run(cdnnl_conv *conv, const float *x, float *y);
/// oneDNN's name for the implementation chosen ("brg:avx512_core_amx", "jit:avx512_core", ...).
const char *cdnnl_conv_implementation(const cdnnl_conv *conv);
void cdnnl_conv_destroy(cdnnl_conv *conv);

/// A convolution for training: forward, backward data and backward weights (with bias) on the
/// same shapes as cdnnl_conv_create, all fp32 and NCHW / OIHW on the caller's side (reordered
/// inside where oneDNN's kernels want blocked layouts). Weights are passed on every call, since
/// they change every step. `bf16`: x, W and dy are rounded to bfloat16 inside (y, dx, dW and db
/// stay fp32, accumulated in fp32), from 16 input channels up. Built for `threads` OpenMP
/// threads; NULL on failure with a message.
typedef struct cdnnl_train cdnnl_train;
cdnnl_train *cdnnl_train_create(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw,
                                int has_bias, int needs_dx, int bf16, int threads, char *error, int error_length);
/// y = conv(x) + bias (bias NULL when built without one). 0 on success.
int cdnnl_train_forward(cdnnl_train *t, const float *weights, const float *bias, const float *x, float *y);
/// From the output gradient `dy`: dx (skipped when NULL; must be NULL when built without
/// `needs_dx`), and dw, db *overwritten* (not added to;
/// db ignored without bias). `x` and `weights` are the forward pass's: `x` must be
/// the input, unchanged, of this object's last forward (its reordered copy is reused). 0 on success.
int cdnnl_train_backward(cdnnl_train *t, const float *weights, const float *x, const float *dy, float *dx, float *dw,
                         float *db);
/// oneDNN's kernel name for the forward (0), backward-data (1) or backward-weights (2) primitive.
const char *cdnnl_train_implementation(const cdnnl_train *t, int which);
void cdnnl_train_destroy(cdnnl_train *t);

#ifdef __cplusplus
}
#endif
#endif
