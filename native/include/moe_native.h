/* The C ABI of Orleans.MoE over libtorch.
 *
 * Conventions (see DESIGN.md, "The libtorch binding"):
 *  - every export returns an int32 status (MOE_OK or an MOE_ERROR_*) and writes results through
 *    out-parameters; no C++ exception crosses this boundary;
 *  - after a non-zero status, moe_last_error copies the calling thread's message into a buffer the
 *    caller owns and releases the native copy;
 *  - handles are opaque: a moe_tensor owns one reference to an at::Tensor and is released with
 *    moe_tensor_free; generators and optimizers likewise with their own free functions;
 *  - dtypes are c10::ScalarType codes (Float=6, Double=7, Long=4, Int=3, Bool=11, Half=5, BFloat16=15).
 */
#ifndef MOE_NATIVE_H
#define MOE_NATIVE_H

#include <stdint.h>

#if defined(MOE_NATIVE_BUILD)
#define MOE_API __attribute__((visibility("default")))
#else
#define MOE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct moe_tensor_s* moe_tensor;
typedef struct moe_generator_s* moe_generator;
typedef struct moe_adamw_s* moe_adamw;
typedef struct moe_store_s* moe_store;
typedef struct moe_process_group_s* moe_process_group;
typedef struct moe_traffic_counter_s* moe_traffic_counter;

enum moe_status {
  MOE_OK = 0,
  MOE_ERROR_TORCH = 1,    /* c10::Error: libtorch's own message (shape mismatch, bad dtype, ...) */
  MOE_ERROR_ARGUMENT = 2, /* an argument this layer rejected (null handle, unknown op code) */
  MOE_ERROR_STD = 3,      /* another std::exception */
  MOE_ERROR_UNKNOWN = 4,
};

enum moe_device_type { MOE_DEVICE_CPU = 0, MOE_DEVICE_CUDA = 1 };

/* ---- runtime ---------------------------------------------------------------------------- */
/* Copies the last error of this thread (UTF-8, no terminator) into buffer[0..capacity) and sets
 * *length to its full size. If *length > capacity, call again with a larger buffer; the message
 * is released once it has been copied whole. */
MOE_API int32_t moe_last_error(char* buffer, int64_t capacity, int64_t* length);
MOE_API int32_t moe_version(char* buffer, int64_t capacity, int64_t* length);
MOE_API int32_t moe_capabilities(int32_t* cuda_available, int32_t* cuda_device_count);
/* Whether this library was built against a CUDA libtorch (a GPU may still be absent: see moe_capabilities). */
MOE_API int32_t moe_cuda_built(int32_t* built);
/* Free and total memory of CUDA device device_index (cudaMemGetInfo); an error naming the cause
 * when the library was built without CUDA or the device does not exist. */
MOE_API int32_t moe_cuda_memory(int32_t device_index, int64_t* free_bytes, int64_t* total_bytes);
/* Waits for the kernels queued on a CUDA device (-1: the current one); does nothing without CUDA. */
MOE_API int32_t moe_cuda_synchronize(int32_t device_index);
/* Enters (enabled = 1) or leaves automatic mixed precision on a device type with a lower-precision
 * dtype (bfloat16 or float16); per thread, like torch.autocast. */
MOE_API int32_t moe_autocast(int32_t enabled, int32_t device_type, int32_t dtype);
MOE_API int32_t moe_set_num_threads(int32_t threads);
MOE_API int32_t moe_get_num_threads(int32_t* threads);
MOE_API int32_t moe_manual_seed(uint64_t seed);
MOE_API int32_t moe_set_grad_enabled(int32_t enabled);
MOE_API int32_t moe_is_grad_enabled(int32_t* enabled);

/* ---- generators ------------------------------------------------------------------------- */
MOE_API int32_t moe_generator_new(uint64_t seed, moe_generator* out);
MOE_API int32_t moe_generator_free(moe_generator generator);
/* The full state as a uint8 tensor, for checkpoints; set_state restores it exactly. */
MOE_API int32_t moe_generator_get_state(moe_generator generator, moe_tensor* out);
MOE_API int32_t moe_generator_set_state(moe_generator generator, moe_tensor state);

/* ---- tensor lifetime, metadata, data ---------------------------------------------------- */
MOE_API int32_t moe_tensor_free(moe_tensor tensor);
/* A second handle to the same tensor (shares storage and autograd identity). */
MOE_API int32_t moe_tensor_share(moe_tensor tensor, moe_tensor* out);
MOE_API int32_t moe_tensor_info(moe_tensor tensor, int32_t* ndim, int32_t* dtype, int32_t* device_type,
                                int32_t* device_index, int32_t* requires_grad);
MOE_API int32_t moe_tensor_shape(moe_tensor tensor, int64_t* shape, int32_t capacity);
MOE_API int32_t moe_tensor_numel(moe_tensor tensor, int64_t* numel);
/* Copies nbytes of little-endian element data into a new contiguous tensor. */
MOE_API int32_t moe_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                                     int32_t dtype, int32_t device_type, int32_t device_index, moe_tensor* out);
/* Copies the tensor's elements (row-major) into destination; nbytes must equal numel*element size. */
/* tensor.set_data(data): the same handle and autograd leaf, now over data's storage, dtype and device. */
MOE_API int32_t moe_tensor_set_data(moe_tensor tensor, moe_tensor data);
MOE_API int32_t moe_tensor_copy_to(moe_tensor tensor, void* destination, int64_t nbytes);
MOE_API int32_t moe_tensor_item(moe_tensor tensor, double* as_double, int64_t* as_int64);
MOE_API int32_t moe_tensor_equal(moe_tensor a, moe_tensor b, int32_t* equal);

/* ---- factories -------------------------------------------------------------------------- */
MOE_API int32_t moe_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type,
                         int32_t device_index, moe_tensor* out);
MOE_API int32_t moe_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                          int32_t device_index, moe_tensor* out);
MOE_API int32_t moe_arange(double start, double end, double step, int32_t dtype, int32_t device_type,
                           int32_t device_index, moe_tensor* out);
enum moe_random_kind { MOE_RANDOM_NORMAL = 0, MOE_RANDOM_UNIFORM = 1 };
/* generator may be null: libtorch's default generator. */
MOE_API int32_t moe_random(int32_t kind, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                           int32_t device_index, moe_generator generator, moe_tensor* out);
MOE_API int32_t moe_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype,
                            int32_t device_type, int32_t device_index, moe_generator generator, moe_tensor* out);
MOE_API int32_t moe_randperm(int64_t n, int32_t device_type, int32_t device_index, moe_generator generator,
                             moe_tensor* out);
MOE_API int32_t moe_bernoulli(moe_tensor probabilities, moe_generator generator, moe_tensor* out);
MOE_API int32_t moe_normal_(moe_tensor tensor, double mean, double std, moe_generator generator);
MOE_API int32_t moe_uniform_(moe_tensor tensor, double low, double high, moe_generator generator);

/* ---- element-wise and linear algebra ---------------------------------------------------- */
enum moe_unary_op {
  MOE_UNARY_NEG = 0, MOE_UNARY_EXP, MOE_UNARY_LOG, MOE_UNARY_SQRT, MOE_UNARY_RSQRT, MOE_UNARY_ABS,
  MOE_UNARY_RELU, MOE_UNARY_GELU, MOE_UNARY_SILU, MOE_UNARY_SIGMOID, MOE_UNARY_TANH, MOE_UNARY_CONTIGUOUS,
  MOE_UNARY_CLONE, MOE_UNARY_DETACH, MOE_UNARY_LOGICAL_NOT, MOE_UNARY_SIN, MOE_UNARY_COS, MOE_UNARY_SQUARE,
  MOE_UNARY_SIGN, MOE_UNARY_FLOOR, MOE_UNARY_ONES_LIKE, MOE_UNARY_ZEROS_LIKE, MOE_UNARY_NONZERO,
  MOE_UNARY_LOG1P, MOE_UNARY_RECIPROCAL, MOE_UNARY_GELU_TANH, MOE_UNARY_ISFINITE,
};
MOE_API int32_t moe_unary(int32_t op, moe_tensor a, moe_tensor* out);

enum moe_binary_op {
  MOE_BINARY_ADD = 0, MOE_BINARY_SUB, MOE_BINARY_MUL, MOE_BINARY_DIV, MOE_BINARY_MATMUL, MOE_BINARY_BMM,
  MOE_BINARY_POW, MOE_BINARY_MAXIMUM, MOE_BINARY_MINIMUM, MOE_BINARY_EQ, MOE_BINARY_NE, MOE_BINARY_LT,
  MOE_BINARY_LE, MOE_BINARY_GT, MOE_BINARY_GE, MOE_BINARY_LOGICAL_AND, MOE_BINARY_LOGICAL_OR,
  MOE_BINARY_REMAINDER, MOE_BINARY_FLOOR_DIVIDE, MOE_BINARY_MM,
};
MOE_API int32_t moe_binary(int32_t op, moe_tensor a, moe_tensor b, moe_tensor* out);

enum moe_scalar_op {
  MOE_SCALAR_ADD = 0, MOE_SCALAR_SUB, MOE_SCALAR_MUL, MOE_SCALAR_DIV, MOE_SCALAR_POW, MOE_SCALAR_RSUB,
  MOE_SCALAR_RDIV, MOE_SCALAR_EQ, MOE_SCALAR_NE, MOE_SCALAR_LT, MOE_SCALAR_LE, MOE_SCALAR_GT,
  MOE_SCALAR_GE, MOE_SCALAR_REMAINDER, MOE_SCALAR_FLOOR_DIVIDE,
};
/* integral != 0 passes the scalar as an int64 so integral tensors stay integral (exact only up to
 * 2^53, the double's mantissa; moe_scalar_int64 takes any int64 exactly). */
MOE_API int32_t moe_scalar(int32_t op, moe_tensor a, double value, int32_t integral, moe_tensor* out);
MOE_API int32_t moe_scalar_int64(int32_t op, moe_tensor a, int64_t value, moe_tensor* out);

MOE_API int32_t moe_linear(moe_tensor input, moe_tensor weight, moe_tensor bias, moe_tensor* out);
MOE_API int32_t moe_clamp(moe_tensor a, int32_t has_min, double min, int32_t has_max, double max, moe_tensor* out);
MOE_API int32_t moe_where(moe_tensor condition, moe_tensor a, moe_tensor b, moe_tensor* out);
MOE_API int32_t moe_masked_fill(moe_tensor a, moe_tensor mask, double value, moe_tensor* out);
MOE_API int32_t moe_to(moe_tensor a, int32_t dtype, int32_t device_type, int32_t device_index, moe_tensor* out);

/* ---- reductions ------------------------------------------------------------------------- */
enum moe_reduce_op { MOE_REDUCE_SUM = 0, MOE_REDUCE_MEAN, MOE_REDUCE_AMAX, MOE_REDUCE_AMIN, MOE_REDUCE_LOGSUMEXP };
/* ndims == 0 reduces over every dimension. */
MOE_API int32_t moe_reduce(int32_t op, moe_tensor a, const int64_t* dims, int32_t ndims, int32_t keepdim,
                           moe_tensor* out);
MOE_API int32_t moe_max_dim(moe_tensor a, int64_t dim, int32_t keepdim, moe_tensor* values, moe_tensor* indices);
/* has_dim == 0: index into the flattened tensor. */
MOE_API int32_t moe_argmax(moe_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, moe_tensor* out);
MOE_API int32_t moe_softmax(moe_tensor a, int64_t dim, int32_t log, moe_tensor* out);

/* ---- shapes ----------------------------------------------------------------------------- */
enum moe_shape_op {
  MOE_SHAPE_VIEW = 0,   /* args: new shape */
  MOE_SHAPE_RESHAPE,    /* args: new shape */
  MOE_SHAPE_EXPAND,     /* args: new shape */
  MOE_SHAPE_PERMUTE,    /* args: dims */
  MOE_SHAPE_TRANSPOSE,  /* args: dim0, dim1 */
  MOE_SHAPE_SQUEEZE,    /* args: dim */
  MOE_SHAPE_UNSQUEEZE,  /* args: dim */
  MOE_SHAPE_FLATTEN,    /* args: start, end */
  MOE_SHAPE_NARROW,     /* args: dim, start, length */
  MOE_SHAPE_SELECT,     /* args: dim, index */
  MOE_SHAPE_SLICE,      /* args: dim, start, end, step */
  MOE_SHAPE_REPEAT,     /* args: repeats per dim */
  MOE_SHAPE_TRIL,       /* args: diagonal */
  MOE_SHAPE_TRIU,       /* args: diagonal */
  MOE_SHAPE_CUMSUM,     /* args: dim */
  MOE_SHAPE_ONE_HOT,    /* args: num_classes */
  MOE_SHAPE_REPEAT_INTERLEAVE, /* args: repeats, dim */
};
MOE_API int32_t moe_shape_op(int32_t op, moe_tensor a, const int64_t* args, int32_t nargs, moe_tensor* out);
MOE_API int32_t moe_cat(const moe_tensor* tensors, int32_t count, int64_t dim, int32_t stack, moe_tensor* out);
/* Splits along dim into count pieces of the given sizes (which must add up to the dim's size). */
MOE_API int32_t moe_split(moe_tensor a, const int64_t* sizes, int32_t count, int64_t dim, moe_tensor* outs);

/* ---- indexing --------------------------------------------------------------------------- */
MOE_API int32_t moe_embedding(moe_tensor weight, moe_tensor indices, moe_tensor* out);
MOE_API int32_t moe_index_select(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor* out);
MOE_API int32_t moe_gather(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor* out);
MOE_API int32_t moe_scatter_add(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor source, moe_tensor* out);
MOE_API int32_t moe_index_add(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor source, moe_tensor* out);
MOE_API int32_t moe_topk(moe_tensor a, int64_t k, int64_t dim, int32_t largest, int32_t sorted, moe_tensor* values,
                         moe_tensor* indices);
MOE_API int32_t moe_sort(moe_tensor a, int64_t dim, int32_t descending, int32_t stable, moe_tensor* values,
                         moe_tensor* indices);
MOE_API int32_t moe_bincount(moe_tensor a, moe_tensor weights, int64_t minlength, moe_tensor* out);

/* ---- neural-network functions ----------------------------------------------------------- */
enum moe_reduction { MOE_REDUCTION_NONE = 0, MOE_REDUCTION_MEAN = 1, MOE_REDUCTION_SUM = 2 };
MOE_API int32_t moe_cross_entropy(moe_tensor logits, moe_tensor targets, int64_t ignore_index, int32_t reduction,
                                  double label_smoothing, moe_tensor* out);
/* With a generator the mask comes from it (deterministic by seed); without, from libtorch's default. */
MOE_API int32_t moe_dropout(moe_tensor a, double p, int32_t training, moe_generator generator, moe_tensor* out);

/* ---- in place (never recorded by autograd on leaves: call them under no-grad for parameters) */
enum moe_inplace_op {
  MOE_INPLACE_ZERO = 0,  /* a = 0 */
  MOE_INPLACE_FILL,      /* a = value */
  MOE_INPLACE_COPY,      /* a = b (broadcast, dtype converted) */
  MOE_INPLACE_ADD,       /* a += value * b */
  MOE_INPLACE_MUL_SCALAR /* a *= value */
};
MOE_API int32_t moe_inplace(int32_t op, moe_tensor a, moe_tensor b, double value);

/* ---- autograd --------------------------------------------------------------------------- */
/* gradient may be null for a scalar output. */
MOE_API int32_t moe_backward(moe_tensor a, moe_tensor gradient, int32_t retain_graph);
/* *out is null when the tensor has no gradient yet. */
MOE_API int32_t moe_tensor_grad(moe_tensor a, moe_tensor* out);
/* gradient may be null: the gradient is cleared (set to undefined); otherwise it must match the
 * tensor's shape, dtype and device. */
MOE_API int32_t moe_tensor_set_grad(moe_tensor a, moe_tensor gradient);
MOE_API int32_t moe_tensor_set_requires_grad(moe_tensor a, int32_t requires_grad);

/* ---- optimisation ----------------------------------------------------------------------- */
/* Scales every gradient so that their joint 2-norm is at most max_norm; returns the norm before. */
MOE_API int32_t moe_clip_grad_norm(const moe_tensor* parameters, int32_t count, double max_norm, double* total_norm);
/* AdamW as torch.optim.AdamW (single-tensor path) over all parameters in one call.
 * group_of_parameter[i] names the group of parameters[i]; hyper is 5 doubles per group:
 * lr, beta1, beta2, eps, weight_decay. */
MOE_API int32_t moe_adamw_new(const moe_tensor* parameters, const int32_t* group_of_parameter, int32_t count,
                              const double* hyper, int32_t groups, moe_adamw* out);
MOE_API int32_t moe_adamw_free(moe_adamw optimizer);
MOE_API int32_t moe_adamw_set_lr(moe_adamw optimizer, int32_t group, double lr);
MOE_API int32_t moe_adamw_step(moe_adamw optimizer);
/* The state of parameter i: step count and the two moments (null handles before its first step). */
MOE_API int32_t moe_adamw_get_state(moe_adamw optimizer, int32_t index, int64_t* step, moe_tensor* exp_avg,
                                    moe_tensor* exp_avg_sq);
MOE_API int32_t moe_adamw_set_state(moe_adamw optimizer, int32_t index, int64_t step, moe_tensor exp_avg,
                                    moe_tensor exp_avg_sq);

/* ---- distributed (c10d) ------------------------------------------------------------------ */
/* Every timeout is in milliseconds; a collective that does not complete in time fails with
 * MOE_ERROR_TORCH and gloo's message. The rendezvous store: the master (rank 0) listens on port,
 * the others connect to host:port; both wait up to timeout_ms for world_size members. */
MOE_API int32_t moe_tcp_store_new(const char* host, int32_t port, int32_t world_size, int32_t is_master,
                                  int64_t timeout_ms, moe_store* out);
MOE_API int32_t moe_store_free(moe_store store);
MOE_API int32_t moe_store_set(moe_store store, const char* key, const uint8_t* value, int64_t length);
/* Waits up to timeout_ms for the key, then copies its value as moe_last_error does: *length is the
 * full size; call again with a larger buffer when *length > capacity. */
MOE_API int32_t moe_store_get(moe_store store, const char* key, int64_t timeout_ms, uint8_t* buffer,
                              int64_t capacity, int64_t* length);
MOE_API int32_t moe_store_add(moe_store store, const char* key, int64_t delta, int64_t* value);
MOE_API int32_t moe_store_check(moe_store store, const char* key, int32_t* present);

/* backend: 0 = gloo (bind_address: the local address gloo listens on, e.g. "127.0.0.1"),
 * 1 = nccl (only when the loaded libtorch was built with CUDA; bind_address is ignored). */
MOE_API int32_t moe_process_group_new(moe_store store, int32_t backend, int32_t rank, int32_t world_size,
                                      int64_t timeout_ms, const char* bind_address, moe_process_group* out);
MOE_API int32_t moe_process_group_free(moe_process_group group);
/* 1 when this library was built with NCCL support. */
MOE_API int32_t moe_nccl_available(int32_t* available);

/* In place. op: 0 sum, 1 average (a sum divided by the world size), 2 max, 3 min. counter (may be
 * null) adds the payload: the tensor's bytes as sent and received, and 2 (P-1)/P of them as the
 * remote traffic of a ring all-reduce. */
MOE_API int32_t moe_all_reduce(moe_process_group group, moe_tensor tensor, int32_t op, int64_t timeout_ms,
                               moe_traffic_counter counter);
/* In place: every rank's tensor becomes root's. */
MOE_API int32_t moe_broadcast(moe_process_group group, moe_tensor tensor, int32_t root, int64_t timeout_ms);
/* input (R, ...) -> (Σ output_splits, ...): rows [Σ in[<r], Σ in[≤r]) go to rank r, and the block from rank r
 * lands at rows [Σ out[<r], Σ out[≤r]). Null splits mean equal splits (R / world size). When input
 * requires grad, the output's backward is the reverse exchange with the splits swapped. counter
 * (may be null) adds the bytes of the forward exchange and, when it runs, of the backward one. */
MOE_API int32_t moe_all_to_all(moe_process_group group, moe_tensor input, const int64_t* input_splits,
                               const int64_t* output_splits, int64_t timeout_ms, moe_traffic_counter counter,
                               moe_tensor* out);
/* input (...) -> (world size, ...): block r is rank r's input. */
MOE_API int32_t moe_all_gather(moe_process_group group, moe_tensor input, int64_t timeout_ms, moe_tensor* out);
MOE_API int32_t moe_barrier(moe_process_group group, int64_t timeout_ms);

/* Bytes an exchange moved, as seen from this rank. values[0..6): calls, bytes sent, bytes received,
 * bytes sent to other ranks, bytes received from other ranks, backward calls. */
MOE_API int32_t moe_traffic_counter_new(moe_traffic_counter* out);
MOE_API int32_t moe_traffic_counter_free(moe_traffic_counter counter);
MOE_API int32_t moe_traffic_counter_read(moe_traffic_counter counter, int64_t* values, int32_t reset);

/* ---- fused routed layers (fused_router.cpp, fused_experts.cpp) ---------------------------- */
/* x (G, n, d), router (G, N_e, d), bias (G, N_e): the logits x·routerᵀ of each group, computed
 * chunk_rows tokens at a time (0: a block of about 64 Ki logits), top-k of logits + bias, and the
 * softmax over the k selected unbiased logits. Outputs: gates (G·n, k) in x's dtype, differentiable
 * in x and router (the bias only selects); expert_ids (G·n·k) Int64 global ids g·N_e + e, row-major
 * over (G, n, k); counts (G·N_e) Int64; order (G·n·k) Int64, the assignments grouped by expert
 * (a stable sort of expert_ids). */
MOE_API int32_t moe_fused_route(moe_tensor x, moe_tensor router, moe_tensor bias, int64_t k, int64_t chunk_rows,
                                moe_tensor* gates, moe_tensor* expert_ids, moe_tensor* counts, moe_tensor* order);
enum moe_expert_activation { MOE_EXPERT_GELU = 0, MOE_EXPERT_SWIGLU = 1 };
/* rows (R, w); gates (R, k), or null when rows are already grouped by expert (weight 1, order null);
 * order (A) Int64 indices into the flattened (R, k) assignments grouped by expert, counts[e] of them
 * for expert e (experts entries on the host); w_up, w_gate (E..., d_e, w) with w_gate null unless
 * SwiGLU; w_down (E..., w, d_e). out (R, w): Σ over a row's assignments of gate · expert(row), as one
 * autograd node whose backward recomputes the experts' hidden layers. */
MOE_API int32_t moe_fused_experts(moe_tensor rows, moe_tensor gates, moe_tensor order, const int64_t* counts,
                                  int32_t experts, moe_tensor w_up, moe_tensor w_gate, moe_tensor w_down,
                                  int32_t activation, moe_tensor* out);

#ifdef __cplusplus
}
#endif

#endif /* MOE_NATIVE_H */
