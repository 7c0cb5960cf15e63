#include "cdnnl.h"
#include "cdnnl_shared.h"

#include <dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The Debian build of oneDNN runs on OpenMP (libgomp): its parallel regions take the calling
// thread's OpenMP thread count, which is set here before every create and run.

// One CPU engine for the process; each convolution has its own stream and scratchpads, so two
// threads may run two of them at once (oneDNN's own scratchpad is one buffer shared by all
// primitives in this build, which crashed when two workers ran at once).
static dnnl_engine_t engine = NULL;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void make_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
}
dnnl_engine_t cdnnl_shared_engine(void) {
    pthread_once(&engine_once, make_engine);
    return engine;
}

struct cdnnl_conv {
    int threads, cout;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t conv;
    // User-side (NCHW float) and primitive-side memories; a reorder where they differ.
    dnnl_memory_t user_src, src, user_dst, dst, weights, bias;
    dnnl_primitive_t src_reorder, dst_reorder;
    dnnl_memory_t conv_scratch, src_scratch, dst_scratch;
    dnnl_memory_desc_t user_weights_md;
};

// Primitive attributes asking for a scratchpad the caller owns.
dnnl_primitive_attr_t cdnnl_user_scratchpad(void) {
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    return attr;
}

// The scratchpad memory a primitive descriptor asks for (NULL when it needs none).
dnnl_status_t cdnnl_scratchpad(const_dnnl_primitive_desc_t pd, dnnl_memory_t *memory) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    *memory = NULL;
    if (!md || dnnl_memory_desc_get_size(md) == 0) return dnnl_success;
    return dnnl_memory_create(memory, md, cdnnl_shared_engine(), DNNL_MEMORY_ALLOCATE);
}

#define CHECK(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    snprintf(error, (size_t)error_length, "%s: oneDNN status %d", what, (int)s_); goto fail; } } while (0)

int cdnnl_reorder(dnnl_engine_t engine, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, dnnl_primitive_t *out,
                   dnnl_memory_t *scratch) {
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad();
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return 1;
    s = dnnl_primitive_create(out, rpd);
    if (s == dnnl_success) s = cdnnl_scratchpad(rpd, scratch);
    dnnl_primitive_desc_destroy(rpd);
    return s != dnnl_success;
}

cdnnl_conv *cdnnl_conv_create(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw,
                              int has_bias, int bf16, int layout, int threads, char *error, int error_length) {
    omp_set_num_threads(threads);
    dnnl_engine_t engine = cdnnl_shared_engine();
    cdnnl_conv *c = calloc(1, sizeof *c);
    if (!c || !engine) { snprintf(error, (size_t)error_length, "no oneDNN CPU engine"); free(c); return NULL; }
    c->threads = threads;
    c->cout = cout;
    int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    dnnl_dims_t src_dims = {n, cin, h, w}, w_dims = {cout, cin, kh, kw}, b_dims = {cout}, dst_dims = {n, cout, ho, wo};
    dnnl_dims_t strides = {sh, sw}, padding = {ph, pw};
    dnnl_data_type_t in_type = bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t user_src_md, user_dst_md, src_md, w_md, b_md, dst_md;
    CHECK(dnnl_memory_desc_init_by_tag(&user_src_md, 4, src_dims, dnnl_f32, dnnl_nchw), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&user_dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw), "output descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&c->user_weights_md, 4, w_dims, dnnl_f32, dnnl_oihw), "weights descriptor");
    // Layouts: with many input channels oneDNN's blocked layouts (nChw16c, brgconv kernels) pay for
    // the reorders in and out; with one input channel (musicnn's front end, VGG's first layer)
    // plain NCHW (im2col + jit gemm) is 1.5-2x faster, the blocked output's reorder costing more
    // than it saves (scripts/bench/bench_dnnl_conv.c measures both).
    dnnl_format_tag_t inner = (layout < 0 ? cin >= 16 : layout) ? dnnl_format_tag_any : dnnl_nchw;
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, in_type, inner), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&w_md, 4, w_dims, in_type, dnnl_format_tag_any), "weights descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_x), "bias descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, inner), "output descriptor");
    dnnl_convolution_desc_t desc;
    CHECK(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &w_md,
                                             has_bias ? &b_md : NULL, &dst_md, strides, padding, padding), "convolution descriptor");
    dnnl_primitive_attr_t attr = cdnnl_user_scratchpad();
    dnnl_status_t made = dnnl_primitive_desc_create(&c->pd, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    CHECK(made, "convolution primitive descriptor");
    CHECK(dnnl_primitive_create(&c->conv, c->pd), "convolution primitive");
    CHECK(cdnnl_scratchpad(c->pd, &c->conv_scratch), "scratchpad");
    CHECK(dnnl_stream_create(&c->stream, engine, dnnl_stream_default_flags), "stream");

    const dnnl_memory_desc_t *src_actual = dnnl_primitive_desc_query_md(c->pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst_actual = dnnl_primitive_desc_query_md(c->pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *w_actual = dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0);
    CHECK(dnnl_memory_create(&c->user_src, &user_src_md, engine, DNNL_MEMORY_NONE), "source memory");
    CHECK(dnnl_memory_create(&c->user_dst, &user_dst_md, engine, DNNL_MEMORY_NONE), "output memory");
    CHECK(dnnl_memory_create(&c->weights, w_actual, engine, DNNL_MEMORY_ALLOCATE), "weights memory");
    if (has_bias) CHECK(dnnl_memory_create(&c->bias, &b_md, engine, DNNL_MEMORY_ALLOCATE), "bias memory");
    if (!dnnl_memory_desc_equal(src_actual, &user_src_md)) {
        CHECK(dnnl_memory_create(&c->src, src_actual, engine, DNNL_MEMORY_ALLOCATE), "source memory");
        if (cdnnl_reorder(engine, &user_src_md, src_actual, &c->src_reorder, &c->src_scratch)) { snprintf(error, (size_t)error_length, "source reorder"); goto fail; }
    }
    if (!dnnl_memory_desc_equal(dst_actual, &user_dst_md)) {
        CHECK(dnnl_memory_create(&c->dst, dst_actual, engine, DNNL_MEMORY_ALLOCATE), "output memory");
        if (cdnnl_reorder(engine, dst_actual, &user_dst_md, &c->dst_reorder, &c->dst_scratch)) { snprintf(error, (size_t)error_length, "output reorder"); goto fail; }
    }
    return c;
fail:
    cdnnl_conv_destroy(c);
    return NULL;
}

dnnl_status_t cdnnl_run_reorder(dnnl_primitive_t r, dnnl_stream_t stream, dnnl_memory_t from, dnnl_memory_t to, dnnl_memory_t scratch) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}, {DNNL_ARG_SCRATCHPAD, scratch}};
    return dnnl_primitive_execute(r, stream, scratch ? 3 : 2, args);
}

int cdnnl_conv_set_weights(cdnnl_conv *c, const float *weights, const float *bias) {
    omp_set_num_threads(c->threads);
    dnnl_engine_t engine = cdnnl_shared_engine();
    dnnl_memory_t user;
    if (dnnl_memory_create(&user, &c->user_weights_md, engine, (void *)weights) != dnnl_success) return 1;
    dnnl_primitive_t r;
    dnnl_memory_t scratch = NULL;
    int failed = cdnnl_reorder(engine, &c->user_weights_md, dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0), &r, &scratch);
    if (!failed) {
        failed = cdnnl_run_reorder(r, c->stream, user, c->weights, scratch) != dnnl_success || dnnl_stream_wait(c->stream) != dnnl_success;
        dnnl_primitive_destroy(r);
        dnnl_memory_destroy(scratch);
    }
    dnnl_memory_destroy(user);
    if (!failed && c->bias && bias) {
        void *handle;
        failed = dnnl_memory_get_data_handle(c->bias, &handle) != dnnl_success;
        if (!failed) memcpy(handle, bias, (size_t)c->cout * sizeof(float));
    }
    return failed;
}

int cdnnl_conv_run(cdnnl_conv *c, const float *x, float *y) {
    omp_set_num_threads(c->threads);
    if (dnnl_memory_set_data_handle(c->user_src, (void *)x) != dnnl_success) return 1;
    if (dnnl_memory_set_data_handle(c->user_dst, y) != dnnl_success) return 1;
    dnnl_memory_t src = c->src ? c->src : c->user_src, dst = c->dst ? c->dst : c->user_dst;
    if (c->src_reorder && cdnnl_run_reorder(c->src_reorder, c->stream, c->user_src, src, c->src_scratch) != dnnl_success) return 1;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, c->weights}, {DNNL_ARG_DST, dst}};
    int count = 3;
    if (c->bias) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, c->bias};
    if (c->conv_scratch) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, c->conv_scratch};
    if (dnnl_primitive_execute(c->conv, c->stream, count, args) != dnnl_success) return 1;
    if (c->dst_reorder && cdnnl_run_reorder(c->dst_reorder, c->stream, dst, c->user_dst, c->dst_scratch) != dnnl_success) return 1;
    return dnnl_stream_wait(c->stream) != dnnl_success;
}

const char *cdnnl_conv_implementation(const cdnnl_conv *c) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(c->pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return "?";
    return name;
}

void cdnnl_conv_destroy(cdnnl_conv *c) {
    if (!c) return;
    dnnl_primitive_destroy(c->src_reorder);
    dnnl_primitive_destroy(c->dst_reorder);
    dnnl_primitive_destroy(c->conv);
    dnnl_primitive_desc_destroy(c->pd);
    dnnl_memory_destroy(c->user_src);
    dnnl_memory_destroy(c->src);
    dnnl_memory_destroy(c->user_dst);
    dnnl_memory_destroy(c->dst);
    dnnl_memory_destroy(c->weights);
    dnnl_memory_destroy(c->bias);
    dnnl_memory_destroy(c->conv_scratch);
    dnnl_memory_destroy(c->src_scratch);
    dnnl_memory_destroy(c->dst_scratch);
    dnnl_stream_destroy(c->stream);
    free(c);
}
