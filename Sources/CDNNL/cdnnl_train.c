#include "cdnnl.h"
#include "cdnnl_shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// One tensor as the caller holds it (NCHW / OIHW float, a pointer given per call) and as a
// primitive wants it; a reorder between the two when the layouts differ.
typedef struct {
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder;
    dnnl_memory_t scratch;
} port;

// `to_user`: the primitive writes this tensor (reorder inner -> user after it runs).
static int port_init(port *p, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *inner_md, int to_user) {
    dnnl_engine_t engine = cdnnl_shared_engine();
    if (dnnl_memory_create(&p->user, user_md, engine, DNNL_MEMORY_NONE) != dnnl_success) return 1;
    if (dnnl_memory_desc_equal(user_md, inner_md)) return 0;
    if (dnnl_memory_create(&p->inner, inner_md, engine, DNNL_MEMORY_ALLOCATE) != dnnl_success) return 1;
    return to_user ? cdnnl_reorder(engine, inner_md, user_md, &p->reorder, &p->scratch)
                   : cdnnl_reorder(engine, user_md, inner_md, &p->reorder, &p->scratch);
}

// The memory to hand the primitive for an input at `data` (reordered into it when needed).
static dnnl_memory_t port_in(port *p, const void *data, dnnl_stream_t stream) {
    if (dnnl_memory_set_data_handle(p->user, (void *)data) != dnnl_success) return NULL;
    if (!p->inner) return p->user;
    return cdnnl_run_reorder(p->reorder, stream, p->user, p->inner, p->scratch) == dnnl_success ? p->inner : NULL;
}

// The memory a primitive writes an output for `data` into; port_out_finish copies it out.
static dnnl_memory_t port_out(port *p, void *data) {
    if (dnnl_memory_set_data_handle(p->user, data) != dnnl_success) return NULL;
    return p->inner ? p->inner : p->user;
}

static int port_out_finish(port *p, dnnl_stream_t stream) {
    return p->inner && cdnnl_run_reorder(p->reorder, stream, p->inner, p->user, p->scratch) != dnnl_success;
}

static void port_destroy(port *p) {
    dnnl_memory_destroy(p->user);
    dnnl_memory_destroy(p->inner);
    dnnl_primitive_destroy(p->reorder);
    dnnl_memory_destroy(p->scratch);
}

struct cdnnl_train {
    int threads, has_bias;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_memory_t fwd_scratch, bwd_data_scratch, bwd_weights_scratch, bias, diff_bias;
    // Forward: x, W -> y. Backward data: dy, W -> dx. Backward weights: x, dy -> dW, db.
    port fwd_src, fwd_weights, fwd_dst, bd_diff_dst, bd_weights, bd_diff_src, bw_src, bw_diff_dst, bw_diff_weights;
    // Copies kept once: backward weights reads the forward's reordered x (Conv2D keeps its input
    // from forward to backward), and both backward primitives read one reordered dy.
    int src_shared, dy_shared;
};

static int make(dnnl_primitive_desc_t *pd, dnnl_primitive_t *prim, dnnl_memory_t *scratch,
                const dnnl_convolution_desc_t *desc, const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad();
    dnnl_status_t s = dnnl_primitive_desc_create(pd, desc, attr, cdnnl_shared_engine(), hint);
    dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_success) s = dnnl_primitive_create(prim, *pd);
    if (s == dnnl_success) s = cdnnl_scratchpad(*pd, scratch);
    return s != dnnl_success;
}

static const dnnl_memory_desc_t *md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

// `call` is a dnnl_status_t or 0 / nonzero; the message names the step and the status.
#define CHECK(call, what) do { int s_ = (int)(call); if (s_) { \
    snprintf(error, (size_t)error_length, "%s: oneDNN status %d", what, s_); goto fail; } } while (0)

cdnnl_train *cdnnl_train_create(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw,
                                int has_bias, int needs_dx, int bf16, int threads, char *error, int error_length) {
    omp_set_num_threads(threads);
    dnnl_engine_t engine = cdnnl_shared_engine();
    cdnnl_train *t = calloc(1, sizeof *t);
    if (!t || !engine) { snprintf(error, (size_t)error_length, "no oneDNN CPU engine"); free(t); return NULL; }
    t->threads = threads;
    t->has_bias = has_bias;
    int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    dnnl_dims_t src_dims = {n, cin, h, w}, w_dims = {cout, cin, kh, kw}, b_dims = {cout}, dst_dims = {n, cout, ho, wo};
    dnnl_dims_t strides = {sh, sw}, padding = {ph, pw};
    dnnl_memory_desc_t user_src, user_dst, user_w, bias_md, src_any, dst_any, w_any, src_low, dst_low, w_low;
    // As for inference: plain NCHW inside below 16 input channels, oneDNN's choice from 16.
    dnnl_format_tag_t inner = cin >= 16 ? dnnl_format_tag_any : dnnl_nchw;
    // bf16: what the kernels multiply (x, W, dy) is rounded to bfloat16; what they write (y, dx,
    // dW, db) stays fp32, accumulated in fp32, as mixed-precision training wants. Layers with
    // fewer than 16 input channels stay fp32 (oneDNN has no fast plain-layout bf16 kernel).
    dnnl_data_type_t low = bf16 && cin >= 16 ? dnnl_bf16 : dnnl_f32;
    CHECK(dnnl_memory_desc_init_by_tag(&user_src, 4, src_dims, dnnl_f32, dnnl_nchw), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&user_dst, 4, dst_dims, dnnl_f32, dnnl_nchw), "output descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&user_w, 4, w_dims, dnnl_f32, dnnl_oihw), "weights descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, b_dims, dnnl_f32, dnnl_x), "bias descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, inner), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, inner), "output descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, dnnl_format_tag_any), "weights descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&src_low, 4, src_dims, low, inner), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_low, 4, dst_dims, low, inner), "output descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&w_low, 4, w_dims, low, dnnl_format_tag_any), "weights descriptor");

    dnnl_convolution_desc_t desc;
    CHECK(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &src_low, &w_low,
                                             has_bias ? &bias_md : NULL, &dst_any, strides, padding, padding),
          "forward descriptor");
    CHECK(make(&t->fwd_pd, &t->fwd, &t->fwd_scratch, &desc, NULL), "forward primitive");
    if (needs_dx) {
        CHECK(dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &src_any, &w_low, &dst_low,
                                                       strides, padding, padding),
              "backward-data descriptor");
        CHECK(make(&t->bwd_data_pd, &t->bwd_data, &t->bwd_data_scratch, &desc, t->fwd_pd), "backward-data primitive");
    }
    CHECK(dnnl_convolution_backward_weights_desc_init(&desc, dnnl_convolution_direct, &src_low, &w_any,
                                                      has_bias ? &bias_md : NULL, &dst_low, strides, padding, padding),
          "backward-weights descriptor");
    CHECK(make(&t->bwd_weights_pd, &t->bwd_weights, &t->bwd_weights_scratch, &desc, t->fwd_pd),
          "backward-weights primitive");
    CHECK(dnnl_stream_create(&t->stream, engine, dnnl_stream_default_flags) != dnnl_success, "stream");

    CHECK(port_init(&t->fwd_src, &user_src, md(t->fwd_pd, dnnl_query_src_md), 0), "forward source");
    CHECK(port_init(&t->fwd_weights, &user_w, md(t->fwd_pd, dnnl_query_weights_md), 0), "forward weights");
    CHECK(port_init(&t->fwd_dst, &user_dst, md(t->fwd_pd, dnnl_query_dst_md), 1), "forward output");
    if (needs_dx) {
        CHECK(port_init(&t->bd_diff_dst, &user_dst, md(t->bwd_data_pd, dnnl_query_diff_dst_md), 0), "output gradient");
        CHECK(port_init(&t->bd_weights, &user_w, md(t->bwd_data_pd, dnnl_query_weights_md), 0), "backward weights");
        CHECK(port_init(&t->bd_diff_src, &user_src, md(t->bwd_data_pd, dnnl_query_diff_src_md), 1), "input gradient");
    }
    const dnnl_memory_desc_t *bw_src_md = md(t->bwd_weights_pd, dnnl_query_src_md);
    const dnnl_memory_desc_t *bw_dy_md = md(t->bwd_weights_pd, dnnl_query_diff_dst_md);
    t->src_shared = t->fwd_src.inner && dnnl_memory_desc_equal(bw_src_md, md(t->fwd_pd, dnnl_query_src_md));
    t->dy_shared = t->bd_diff_dst.inner && dnnl_memory_desc_equal(bw_dy_md, md(t->bwd_data_pd, dnnl_query_diff_dst_md));
    if (!t->src_shared) CHECK(port_init(&t->bw_src, &user_src, bw_src_md, 0), "backward source");
    if (!t->dy_shared) CHECK(port_init(&t->bw_diff_dst, &user_dst, bw_dy_md, 0), "output gradient");
    CHECK(port_init(&t->bw_diff_weights, &user_w, md(t->bwd_weights_pd, dnnl_query_diff_weights_md), 1),
          "weights gradient");
    if (has_bias) {
        CHECK(dnnl_memory_create(&t->bias, &bias_md, engine, DNNL_MEMORY_NONE) != dnnl_success, "bias memory");
        CHECK(dnnl_memory_create(&t->diff_bias, &bias_md, engine, DNNL_MEMORY_NONE) != dnnl_success, "bias gradient");
    }
    return t;
fail:
    cdnnl_train_destroy(t);
    return NULL;
}

int cdnnl_train_forward(cdnnl_train *t, const float *weights, const float *bias, const float *x, float *y) {
    omp_set_num_threads(t->threads);
    dnnl_memory_t src = port_in(&t->fwd_src, x, t->stream), w = port_in(&t->fwd_weights, weights, t->stream);
    dnnl_memory_t dst = port_out(&t->fwd_dst, y);
    if (!src || !w || !dst) return 1;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
    int count = 3;
    if (t->has_bias) {
        if (dnnl_memory_set_data_handle(t->bias, (void *)bias) != dnnl_success) return 1;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, t->bias};
    }
    if (t->fwd_scratch) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, t->fwd_scratch};
    if (dnnl_primitive_execute(t->fwd, t->stream, count, args) != dnnl_success) return 1;
    if (port_out_finish(&t->fwd_dst, t->stream)) return 1;
    return dnnl_stream_wait(t->stream) != dnnl_success;
}

int cdnnl_train_backward(cdnnl_train *t, const float *weights, const float *x, const float *dy, float *dx, float *dw,
                         float *db) {
    omp_set_num_threads(t->threads);
    if (dx && !t->bwd_data) return 1;  // built without the input gradient
    dnnl_memory_t shared_dy = NULL;
    if (dx) {
        dnnl_memory_t g = port_in(&t->bd_diff_dst, dy, t->stream), w = port_in(&t->bd_weights, weights, t->stream);
        shared_dy = g;
        dnnl_memory_t out = port_out(&t->bd_diff_src, dx);
        if (!g || !w || !out) return 1;
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, out}};
        int count = 3;
        if (t->bwd_data_scratch) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, t->bwd_data_scratch};
        if (dnnl_primitive_execute(t->bwd_data, t->stream, count, args) != dnnl_success) return 1;
        if (port_out_finish(&t->bd_diff_src, t->stream)) return 1;
    }
    dnnl_memory_t src = t->src_shared ? t->fwd_src.inner : port_in(&t->bw_src, x, t->stream);
    dnnl_memory_t g = !t->dy_shared ? port_in(&t->bw_diff_dst, dy, t->stream)
                      : shared_dy    ? shared_dy
                                     : port_in(&t->bd_diff_dst, dy, t->stream);
    dnnl_memory_t out = port_out(&t->bw_diff_weights, dw);
    if (!src || !g || !out) return 1;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_DIFF_WEIGHTS, out}};
    int count = 3;
    if (t->has_bias) {
        if (dnnl_memory_set_data_handle(t->diff_bias, db) != dnnl_success) return 1;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, t->diff_bias};
    }
    if (t->bwd_weights_scratch) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, t->bwd_weights_scratch};
    if (dnnl_primitive_execute(t->bwd_weights, t->stream, count, args) != dnnl_success) return 1;
    if (port_out_finish(&t->bw_diff_weights, t->stream)) return 1;
    return dnnl_stream_wait(t->stream) != dnnl_success;
}

const char *cdnnl_train_implementation(const cdnnl_train *t, int which) {
    const_dnnl_primitive_desc_t pd = which == 0 ? t->fwd_pd : which == 1 ? t->bwd_data_pd : t->bwd_weights_pd;
    const char *name = NULL;
    if (!pd || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return "?";
    return name;
}

void cdnnl_train_destroy(cdnnl_train *t) {
    if (!t) return;
    port *ports[] = {&t->fwd_src, &t->fwd_weights, &t->fwd_dst, &t->bd_diff_dst, &t->bd_weights,
                     &t->bd_diff_src, &t->bw_src, &t->bw_diff_dst, &t->bw_diff_weights};
    for (size_t i = 0; i < sizeof ports / sizeof *ports; i++) port_destroy(ports[i]);
    dnnl_primitive_destroy(t->fwd);
    dnnl_primitive_destroy(t->bwd_data);
    dnnl_primitive_destroy(t->bwd_weights);
    dnnl_primitive_desc_destroy(t->fwd_pd);
    dnnl_primitive_desc_destroy(t->bwd_data_pd);
    dnnl_primitive_desc_destroy(t->bwd_weights_pd);
    dnnl_memory_destroy(t->fwd_scratch);
    dnnl_memory_destroy(t->bwd_data_scratch);
    dnnl_memory_destroy(t->bwd_weights_scratch);
    dnnl_memory_destroy(t->bias);
    dnnl_memory_destroy(t->diff_bias);
    dnnl_stream_destroy(t->stream);
    free(t);
}
