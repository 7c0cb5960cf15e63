// What the inference (cdnnl.c) and training (cdnnl_train.c) faces share: the process's one CPU
// engine, user-owned scratchpads and reorders. Private to the CDNNL target.
#ifndef CDNNL_SHARED_H
#define CDNNL_SHARED_H

#include <dnnl.h>

// The Debian build of oneDNN runs on OpenMP (libgomp): its parallel regions take the calling
// thread's OpenMP thread count, which is set before every create and run.
extern void omp_set_num_threads(int count);

dnnl_engine_t cdnnl_shared_engine(void);
// Primitive attributes asking for a scratchpad the caller owns.
dnnl_primitive_attr_t cdnnl_user_scratchpad(void);
// The scratchpad memory a primitive descriptor asks for (NULL when it needs none).
dnnl_status_t cdnnl_scratchpad(const_dnnl_primitive_desc_t pd, dnnl_memory_t *memory);
// A reorder primitive from one layout to another, and its scratchpad; 0 on success.
int cdnnl_reorder(dnnl_engine_t engine, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, dnnl_primitive_t *out,
            dnnl_memory_t *scratch);
dnnl_status_t cdnnl_run_reorder(dnnl_primitive_t r, dnnl_stream_t stream, dnnl_memory_t from, dnnl_memory_t to,
                          dnnl_memory_t scratch);

#endif
