using System.Runtime.InteropServices;

namespace Orleans.MoE.Torch.Native;

/// <summary>
/// The exports of native/include/moe_native.h, one to one. Every export returns a status that
/// <see cref="TorchException.Check"/> turns into an exception; results come back through pointers.
/// </summary>
internal static unsafe class NativeMethods
{
    internal const string Library = "moe_native";

    // ---- runtime
    [DllImport(Library)] internal static extern int moe_last_error(byte* buffer, long capacity, long* length);
    [DllImport(Library)] internal static extern int moe_version(byte* buffer, long capacity, long* length);
    [DllImport(Library)] internal static extern int moe_capabilities(int* cudaAvailable, int* cudaDeviceCount);
    [DllImport(Library)] internal static extern int moe_cuda_built(int* built);
    [DllImport(Library)] internal static extern int moe_cuda_memory(int deviceIndex, long* freeBytes, long* totalBytes);
    [DllImport(Library)] internal static extern int moe_cuda_synchronize(int deviceIndex);
    [DllImport(Library)] internal static extern int moe_autocast(int enabled, int deviceType, int dtype);
    [DllImport(Library)] internal static extern int moe_set_num_threads(int threads);
    [DllImport(Library)] internal static extern int moe_get_num_threads(int* threads);
    [DllImport(Library)] internal static extern int moe_manual_seed(ulong seed);
    [DllImport(Library)] internal static extern int moe_set_grad_enabled(int enabled);
    [DllImport(Library)] internal static extern int moe_is_grad_enabled(int* enabled);

    // ---- generators
    [DllImport(Library)] internal static extern int moe_generator_new(ulong seed, IntPtr* generator);
    [DllImport(Library)] internal static extern int moe_generator_free(IntPtr generator);
    [DllImport(Library)] internal static extern int moe_generator_get_state(IntPtr generator, IntPtr* state);
    [DllImport(Library)] internal static extern int moe_generator_set_state(IntPtr generator, IntPtr state);

    // ---- tensor lifetime, metadata, data
    [DllImport(Library)] internal static extern int moe_tensor_free(IntPtr tensor);
    [DllImport(Library)] internal static extern int moe_tensor_share(IntPtr tensor, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_tensor_info(IntPtr tensor, int* ndim, int* dtype, int* deviceType, int* deviceIndex, int* requiresGrad);
    [DllImport(Library)] internal static extern int moe_tensor_shape(IntPtr tensor, long* shape, int capacity);
    [DllImport(Library)] internal static extern int moe_tensor_numel(IntPtr tensor, long* numel);
    [DllImport(Library)] internal static extern int moe_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype, int deviceType, int deviceIndex, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_tensor_set_data(IntPtr tensor, IntPtr data);
    [DllImport(Library)] internal static extern int moe_tensor_copy_to(IntPtr tensor, void* destination, long nbytes);
    [DllImport(Library)] internal static extern int moe_tensor_item(IntPtr tensor, double* asDouble, long* asInt64);
    [DllImport(Library)] internal static extern int moe_tensor_equal(IntPtr a, IntPtr b, int* equal);

    // ---- factories
    [DllImport(Library)] internal static extern int moe_full(long* shape, int ndim, double value, int dtype, int deviceType, int deviceIndex, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_random(int kind, long* shape, int ndim, int dtype, int deviceType, int deviceIndex, IntPtr generator, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_randint(long low, long high, long* shape, int ndim, int dtype, int deviceType, int deviceIndex, IntPtr generator, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_randperm(long n, int deviceType, int deviceIndex, IntPtr generator, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_bernoulli(IntPtr probabilities, IntPtr generator, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_normal_(IntPtr tensor, double mean, double std, IntPtr generator);
    [DllImport(Library)] internal static extern int moe_uniform_(IntPtr tensor, double low, double high, IntPtr generator);

    // ---- element-wise and linear algebra
    [DllImport(Library)] internal static extern int moe_unary(int op, IntPtr a, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_binary(int op, IntPtr a, IntPtr b, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_scalar(int op, IntPtr a, double value, int integral, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_scalar_int64(int op, IntPtr a, long value, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_linear(IntPtr input, IntPtr weight, IntPtr bias, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_clamp(IntPtr a, int hasMin, double min, int hasMax, double max, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_where(IntPtr condition, IntPtr a, IntPtr b, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_masked_fill(IntPtr a, IntPtr mask, double value, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_to(IntPtr a, int dtype, int deviceType, int deviceIndex, IntPtr* result);

    // ---- reductions
    [DllImport(Library)] internal static extern int moe_reduce(int op, IntPtr a, long* dims, int ndims, int keepdim, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_max_dim(IntPtr a, long dim, int keepdim, IntPtr* values, IntPtr* indices);
    [DllImport(Library)] internal static extern int moe_argmax(IntPtr a, int hasDim, long dim, int keepdim, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_softmax(IntPtr a, long dim, int log, IntPtr* result);

    // ---- shapes
    [DllImport(Library)] internal static extern int moe_shape_op(int op, IntPtr a, long* args, int nargs, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_cat(IntPtr* tensors, int count, long dim, int stack, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_split(IntPtr a, long* sizes, int count, long dim, IntPtr* results);

    // ---- indexing
    [DllImport(Library)] internal static extern int moe_embedding(IntPtr weight, IntPtr indices, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_index_select(IntPtr a, long dim, IntPtr index, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_gather(IntPtr a, long dim, IntPtr index, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_scatter_add(IntPtr a, long dim, IntPtr index, IntPtr source, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_index_add(IntPtr a, long dim, IntPtr index, IntPtr source, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_topk(IntPtr a, long k, long dim, int largest, int sorted, IntPtr* values, IntPtr* indices);
    [DllImport(Library)] internal static extern int moe_sort(IntPtr a, long dim, int descending, int stable, IntPtr* values, IntPtr* indices);
    [DllImport(Library)] internal static extern int moe_bincount(IntPtr a, IntPtr weights, long minlength, IntPtr* result);

    // ---- neural-network functions
    [DllImport(Library)] internal static extern int moe_cross_entropy(IntPtr logits, IntPtr targets, long ignoreIndex, int reduction, double labelSmoothing, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_dropout(IntPtr a, double p, int training, IntPtr generator, IntPtr* result);

    // ---- in place
    [DllImport(Library)] internal static extern int moe_inplace(int op, IntPtr a, IntPtr b, double value);

    // ---- autograd
    [DllImport(Library)] internal static extern int moe_backward(IntPtr a, IntPtr gradient, int retainGraph);
    [DllImport(Library)] internal static extern int moe_tensor_grad(IntPtr a, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_tensor_set_grad(IntPtr a, IntPtr gradient);
    [DllImport(Library)] internal static extern int moe_tensor_set_requires_grad(IntPtr a, int requiresGrad);

    // ---- optimisation
    [DllImport(Library)] internal static extern int moe_clip_grad_norm(IntPtr* parameters, int count, double maxNorm, double* totalNorm);
    [DllImport(Library)] internal static extern int moe_adamw_new(IntPtr* parameters, int* groupOfParameter, int count, double* hyper, int groups, IntPtr* optimizer);
    [DllImport(Library)] internal static extern int moe_adamw_free(IntPtr optimizer);
    [DllImport(Library)] internal static extern int moe_adamw_set_lr(IntPtr optimizer, int group, double lr);
    [DllImport(Library)] internal static extern int moe_adamw_step(IntPtr optimizer);
    [DllImport(Library)] internal static extern int moe_adamw_get_state(IntPtr optimizer, int index, long* step, IntPtr* expAvg, IntPtr* expAvgSq);
    [DllImport(Library)] internal static extern int moe_adamw_set_state(IntPtr optimizer, int index, long step, IntPtr expAvg, IntPtr expAvgSq);

    // ---- distributed (c10d)
    [DllImport(Library)] internal static extern int moe_tcp_store_new(byte* host, int port, int worldSize, int isMaster, long timeoutMs, IntPtr* store);
    [DllImport(Library)] internal static extern int moe_store_free(IntPtr store);
    [DllImport(Library)] internal static extern int moe_store_set(IntPtr store, byte* key, byte* value, long length);
    [DllImport(Library)] internal static extern int moe_store_get(IntPtr store, byte* key, long timeoutMs, byte* buffer, long capacity, long* length);
    [DllImport(Library)] internal static extern int moe_store_add(IntPtr store, byte* key, long delta, long* value);
    [DllImport(Library)] internal static extern int moe_store_check(IntPtr store, byte* key, int* present);
    [DllImport(Library)] internal static extern int moe_process_group_new(IntPtr store, int backend, int rank, int worldSize, long timeoutMs, byte* bindAddress, IntPtr* group);
    [DllImport(Library)] internal static extern int moe_process_group_free(IntPtr group);
    [DllImport(Library)] internal static extern int moe_nccl_available(int* available);
    [DllImport(Library)] internal static extern int moe_all_reduce(IntPtr group, IntPtr tensor, int op, long timeoutMs, IntPtr counter);
    [DllImport(Library)] internal static extern int moe_broadcast(IntPtr group, IntPtr tensor, int root, long timeoutMs);
    [DllImport(Library)] internal static extern int moe_all_to_all(IntPtr group, IntPtr input, long* inputSplits, long* outputSplits, long timeoutMs, IntPtr counter, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_all_gather(IntPtr group, IntPtr input, long timeoutMs, IntPtr* result);
    [DllImport(Library)] internal static extern int moe_barrier(IntPtr group, long timeoutMs);
    [DllImport(Library)] internal static extern int moe_traffic_counter_new(IntPtr* counter);
    [DllImport(Library)] internal static extern int moe_traffic_counter_free(IntPtr counter);
    [DllImport(Library)] internal static extern int moe_traffic_counter_read(IntPtr counter, long* values, int reset);

    // ---- fused routed layers
    [DllImport(Library)] internal static extern int moe_fused_route(IntPtr x, IntPtr router, IntPtr bias, long k, long chunkRows, IntPtr* gates, IntPtr* expertIds, IntPtr* counts, IntPtr* order);
    [DllImport(Library)] internal static extern int moe_fused_experts(IntPtr rows, IntPtr gates, IntPtr order, long* counts, int experts, IntPtr wUp, IntPtr wGate, IntPtr wDown, int activation, IntPtr* result);
}
