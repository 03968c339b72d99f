// Tensor exports: lifetime, data, factories, operations and autograd.
// Operations of one arity share an export selected by an op code (see moe_native.h), which keeps
// the ABI small without hiding anything: each case is one libtorch call.
#include <cstring>
#include <sstream>

#include "common.h"
#include "generator.h"

using moe::T;
using moe::wrap;

extern "C" {

// ---- lifetime, metadata, data ------------------------------------------------------------

int32_t moe_tensor_free(moe_tensor tensor) {
  MOE_TRY
  delete reinterpret_cast<at::Tensor*>(tensor);
  MOE_CATCH
}

int32_t moe_tensor_share(moe_tensor tensor, moe_tensor* out) {
  MOE_TRY
  *out = wrap(T(tensor));
  MOE_CATCH
}

int32_t moe_tensor_info(moe_tensor tensor, int32_t* ndim, int32_t* dtype, int32_t* device_type,
                        int32_t* device_index, int32_t* requires_grad) {
  MOE_TRY
  const at::Tensor& t = T(tensor);
  *ndim = static_cast<int32_t>(t.dim());
  *dtype = static_cast<int32_t>(t.scalar_type());
  *device_type = t.is_cuda() ? MOE_DEVICE_CUDA : MOE_DEVICE_CPU;
  *device_index = t.is_cuda() ? t.device().index() : 0;
  *requires_grad = t.requires_grad() ? 1 : 0;
  MOE_CATCH
}

int32_t moe_tensor_shape(moe_tensor tensor, int64_t* shape, int32_t capacity) {
  MOE_TRY
  const at::Tensor& t = T(tensor);
  if (t.dim() > capacity) throw std::invalid_argument("shape buffer too small");
  for (int64_t i = 0; i < t.dim(); ++i) shape[i] = t.size(i);
  MOE_CATCH
}

int32_t moe_tensor_numel(moe_tensor tensor, int64_t* numel) {
  MOE_TRY
  *numel = T(tensor).numel();
  MOE_CATCH
}

int32_t moe_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim, int32_t dtype,
                             int32_t device_type, int32_t device_index, moe_tensor* out) {
  MOE_TRY
  at::Tensor cpu = at::empty(moe::ints(shape, ndim), at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
  const int64_t expected = cpu.numel() * static_cast<int64_t>(cpu.element_size());
  if (expected != nbytes)
    throw std::invalid_argument("data holds " + std::to_string(nbytes) + " bytes but the shape needs " +
                                std::to_string(expected));
  if (nbytes > 0) std::memcpy(cpu.data_ptr(), data, static_cast<size_t>(nbytes));
  *out = wrap(device_type == MOE_DEVICE_CPU ? cpu : cpu.to(moe::device_of(device_type, device_index)));
  MOE_CATCH
}

// Points a tensor (a parameter, say) at other data, as PyTorch's `param.data = ...`: the handle,
// the autograd leaf and everything holding it (an optimizer) stay the same, so a module moves to
// another device or dtype in place.
int32_t moe_tensor_set_data(moe_tensor tensor, moe_tensor data) {
  MOE_TRY
  at::Tensor& t = T(tensor);
  t.set_data(T(data));
  MOE_CATCH
}

int32_t moe_tensor_copy_to(moe_tensor tensor, void* destination, int64_t nbytes) {
  MOE_TRY
  at::Tensor cpu = T(tensor).detach().to(at::kCPU).contiguous();
  const int64_t available = cpu.numel() * static_cast<int64_t>(cpu.element_size());
  if (available != nbytes)
    throw std::invalid_argument("tensor holds " + std::to_string(available) + " bytes but the destination has " +
                                std::to_string(nbytes));
  if (nbytes > 0) std::memcpy(destination, cpu.data_ptr(), static_cast<size_t>(nbytes));
  MOE_CATCH
}

int32_t moe_tensor_item(moe_tensor tensor, double* as_double, int64_t* as_int64) {
  MOE_TRY
  at::Scalar s = T(tensor).item();
  if (s.isIntegral(/*includeBool=*/true)) {
    *as_int64 = s.toLong();
    *as_double = static_cast<double>(*as_int64);
  } else {
    *as_double = s.toDouble();
    *as_int64 = static_cast<int64_t>(*as_double);
  }
  MOE_CATCH
}

int32_t moe_tensor_equal(moe_tensor a, moe_tensor b, int32_t* equal) {
  MOE_TRY
  *equal = at::equal(T(a), T(b)) ? 1 : 0;
  MOE_CATCH
}

// ---- factories -----------------------------------------------------------------------------

int32_t moe_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type,
                 int32_t device_index, moe_tensor* out) {
  MOE_TRY
  const auto options = moe::options_of(dtype, device_type, device_index);
  const bool integral = at::isIntegralType(options.dtype().toScalarType(), /*includeBool=*/true);
  *out = wrap(at::full(moe::ints(shape, ndim), moe::scalar_of(value, integral), options));
  MOE_CATCH
}

int32_t moe_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index,
                  moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::empty(moe::ints(shape, ndim), moe::options_of(dtype, device_type, device_index)));
  MOE_CATCH
}

int32_t moe_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index,
                   moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::arange(start, end, step, moe::options_of(dtype, device_type, device_index)));
  MOE_CATCH
}

// Random tensors are drawn on the CPU from the CPU generator and then moved, so a seed gives the
// same numbers on every device kind.
int32_t moe_random(int32_t kind, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                   int32_t device_index, moe_generator generator, moe_tensor* out) {
  MOE_TRY
  const auto cpu = at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype));
  const auto gen = moe::generator_of(generator);
  at::Tensor t;
  switch (kind) {
    case MOE_RANDOM_NORMAL: t = at::randn(moe::ints(shape, ndim), gen, cpu); break;
    case MOE_RANDOM_UNIFORM: t = at::rand(moe::ints(shape, ndim), gen, cpu); break;
    default: throw std::invalid_argument("unknown random kind " + std::to_string(kind));
  }
  *out = wrap(device_type == MOE_DEVICE_CPU ? t : t.to(moe::device_of(device_type, device_index)));
  MOE_CATCH
}

int32_t moe_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                    int32_t device_index, moe_generator generator, moe_tensor* out) {
  MOE_TRY
  const auto cpu = at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype));
  at::Tensor t = at::randint(low, high, moe::ints(shape, ndim), moe::generator_of(generator), cpu);
  *out = wrap(device_type == MOE_DEVICE_CPU ? t : t.to(moe::device_of(device_type, device_index)));
  MOE_CATCH
}

int32_t moe_randperm(int64_t n, int32_t device_type, int32_t device_index, moe_generator generator, moe_tensor* out) {
  MOE_TRY
  at::Tensor t = at::randperm(n, moe::generator_of(generator), at::TensorOptions().dtype(at::kLong));
  *out = wrap(device_type == MOE_DEVICE_CPU ? t : t.to(moe::device_of(device_type, device_index)));
  MOE_CATCH
}

int32_t moe_bernoulli(moe_tensor probabilities, moe_generator generator, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& p = T(probabilities);
  at::Tensor t = at::bernoulli(p.to(at::kCPU), moe::generator_of(generator));
  *out = wrap(t.to(p.device()));
  MOE_CATCH
}

int32_t moe_normal_(moe_tensor tensor, double mean, double std, moe_generator generator) {
  MOE_TRY
  at::Tensor& t = T(tensor);
  at::NoGradGuard no_grad;
  if (t.is_cpu()) {
    t.normal_(mean, std, moe::generator_of(generator));
  } else {
    t.copy_(at::empty(t.sizes(), t.options().device(at::kCPU)).normal_(mean, std, moe::generator_of(generator)));
  }
  MOE_CATCH
}

int32_t moe_uniform_(moe_tensor tensor, double low, double high, moe_generator generator) {
  MOE_TRY
  at::Tensor& t = T(tensor);
  at::NoGradGuard no_grad;
  if (t.is_cpu()) {
    t.uniform_(low, high, moe::generator_of(generator));
  } else {
    t.copy_(at::empty(t.sizes(), t.options().device(at::kCPU)).uniform_(low, high, moe::generator_of(generator)));
  }
  MOE_CATCH
}

// ---- element-wise and linear algebra -------------------------------------------------------

int32_t moe_unary(int32_t op, moe_tensor a, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  at::Tensor r;
  switch (op) {
    case MOE_UNARY_NEG: r = at::neg(x); break;
    case MOE_UNARY_EXP: r = at::exp(x); break;
    case MOE_UNARY_LOG: r = at::log(x); break;
    case MOE_UNARY_SQRT: r = at::sqrt(x); break;
    case MOE_UNARY_RSQRT: r = at::rsqrt(x); break;
    case MOE_UNARY_ABS: r = at::abs(x); break;
    case MOE_UNARY_RELU: r = at::relu(x); break;
    case MOE_UNARY_GELU: r = at::gelu(x, "none"); break;
    case MOE_UNARY_SILU: r = at::silu(x); break;
    case MOE_UNARY_SIGMOID: r = at::sigmoid(x); break;
    case MOE_UNARY_TANH: r = at::tanh(x); break;
    case MOE_UNARY_CONTIGUOUS: r = x.contiguous(); break;
    case MOE_UNARY_CLONE: r = x.clone(); break;
    case MOE_UNARY_DETACH: r = x.detach(); break;
    case MOE_UNARY_LOGICAL_NOT: r = at::logical_not(x); break;
    case MOE_UNARY_SIN: r = at::sin(x); break;
    case MOE_UNARY_COS: r = at::cos(x); break;
    case MOE_UNARY_SQUARE: r = at::square(x); break;
    case MOE_UNARY_SIGN: r = at::sign(x); break;
    case MOE_UNARY_FLOOR: r = at::floor(x); break;
    case MOE_UNARY_ONES_LIKE: r = at::ones_like(x); break;
    case MOE_UNARY_ZEROS_LIKE: r = at::zeros_like(x); break;
    case MOE_UNARY_NONZERO: r = at::nonzero(x); break;
    case MOE_UNARY_LOG1P: r = at::log1p(x); break;
    case MOE_UNARY_RECIPROCAL: r = at::reciprocal(x); break;
    case MOE_UNARY_GELU_TANH: r = at::gelu(x, "tanh"); break;
    case MOE_UNARY_ISFINITE: r = at::isfinite(x); break;
    default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  MOE_CATCH
}

int32_t moe_binary(int32_t op, moe_tensor a, moe_tensor b, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  const at::Tensor& y = T(b);
  at::Tensor r;
  switch (op) {
    case MOE_BINARY_ADD: r = at::add(x, y); break;
    case MOE_BINARY_SUB: r = at::sub(x, y); break;
    case MOE_BINARY_MUL: r = at::mul(x, y); break;
    case MOE_BINARY_DIV: r = at::div(x, y); break;
    case MOE_BINARY_MATMUL: r = at::matmul(x, y); break;
    case MOE_BINARY_BMM: r = at::bmm(x, y); break;
    case MOE_BINARY_POW: r = at::pow(x, y); break;
    case MOE_BINARY_MAXIMUM: r = at::maximum(x, y); break;
    case MOE_BINARY_MINIMUM: r = at::minimum(x, y); break;
    case MOE_BINARY_EQ: r = at::eq(x, y); break;
    case MOE_BINARY_NE: r = at::ne(x, y); break;
    case MOE_BINARY_LT: r = at::lt(x, y); break;
    case MOE_BINARY_LE: r = at::le(x, y); break;
    case MOE_BINARY_GT: r = at::gt(x, y); break;
    case MOE_BINARY_GE: r = at::ge(x, y); break;
    case MOE_BINARY_LOGICAL_AND: r = at::logical_and(x, y); break;
    case MOE_BINARY_LOGICAL_OR: r = at::logical_or(x, y); break;
    case MOE_BINARY_REMAINDER: r = at::remainder(x, y); break;
    case MOE_BINARY_FLOOR_DIVIDE: r = at::floor_divide(x, y); break;
    case MOE_BINARY_MM: r = at::mm(x, y); break;
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  MOE_CATCH
}

}  // extern "C"

static at::Tensor scalar_op(int32_t op, const at::Tensor& x, const at::Scalar& s) {
  at::Tensor r;
  switch (op) {
    case MOE_SCALAR_ADD: r = at::add(x, s); break;
    case MOE_SCALAR_SUB: r = at::sub(x, s); break;
    case MOE_SCALAR_MUL: r = at::mul(x, s); break;
    case MOE_SCALAR_DIV: r = at::div(x, s); break;
    case MOE_SCALAR_POW: r = at::pow(x, s); break;
    case MOE_SCALAR_RSUB: r = at::rsub(x, s); break;
    case MOE_SCALAR_RDIV: r = at::mul(at::reciprocal(x), s); break;
    case MOE_SCALAR_EQ: r = at::eq(x, s); break;
    case MOE_SCALAR_NE: r = at::ne(x, s); break;
    case MOE_SCALAR_LT: r = at::lt(x, s); break;
    case MOE_SCALAR_LE: r = at::le(x, s); break;
    case MOE_SCALAR_GT: r = at::gt(x, s); break;
    case MOE_SCALAR_GE: r = at::ge(x, s); break;
    case MOE_SCALAR_REMAINDER: r = at::remainder(x, s); break;
    case MOE_SCALAR_FLOOR_DIVIDE: r = at::floor_divide(x, s); break;
    default: throw std::invalid_argument("unknown scalar op " + std::to_string(op));
  }
  return r;
}

extern "C" {

int32_t moe_scalar(int32_t op, moe_tensor a, double value, int32_t integral, moe_tensor* out) {
  MOE_TRY
  *out = wrap(scalar_op(op, T(a), moe::scalar_of(value, integral)));
  MOE_CATCH
}

int32_t moe_scalar_int64(int32_t op, moe_tensor a, int64_t value, moe_tensor* out) {
  MOE_TRY
  *out = wrap(scalar_op(op, T(a), at::Scalar(value)));
  MOE_CATCH
}

int32_t moe_linear(moe_tensor input, moe_tensor weight, moe_tensor bias, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::linear(T(input), T(weight), moe::optional_tensor(bias)));
  MOE_CATCH
}

int32_t moe_clamp(moe_tensor a, int32_t has_min, double min, int32_t has_max, double max, moe_tensor* out) {
  MOE_TRY
  c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
  c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
  *out = wrap(at::clamp(T(a), lo, hi));
  MOE_CATCH
}

int32_t moe_where(moe_tensor condition, moe_tensor a, moe_tensor b, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::where(T(condition), T(a), T(b)));
  MOE_CATCH
}

int32_t moe_masked_fill(moe_tensor a, moe_tensor mask, double value, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::masked_fill(T(a), T(mask), at::Scalar(value)));
  MOE_CATCH
}

int32_t moe_to(moe_tensor a, int32_t dtype, int32_t device_type, int32_t device_index, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  const at::ScalarType type = dtype < 0 ? x.scalar_type() : static_cast<at::ScalarType>(dtype);
  const at::Device device = device_type < 0 ? x.device() : moe::device_of(device_type, device_index);
  *out = wrap(x.to(device, type));
  MOE_CATCH
}

// ---- reductions ----------------------------------------------------------------------------

int32_t moe_reduce(int32_t op, moe_tensor a, const int64_t* dims, int32_t ndims, int32_t keepdim, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  const bool all = ndims == 0;
  std::vector<int64_t> every;
  if (all) {
    for (int64_t i = 0; i < x.dim(); ++i) every.push_back(i);
  }
  const at::IntArrayRef d = all ? at::IntArrayRef(every) : moe::ints(dims, ndims);
  const bool keep = keepdim != 0;
  at::Tensor r;
  switch (op) {
    case MOE_REDUCE_SUM: r = all && !keep ? at::sum(x) : at::sum(x, d, keep); break;
    case MOE_REDUCE_MEAN: r = all && !keep ? at::mean(x) : at::mean(x, d, keep); break;
    case MOE_REDUCE_AMAX: r = at::amax(x, d, keep); break;
    case MOE_REDUCE_AMIN: r = at::amin(x, d, keep); break;
    case MOE_REDUCE_LOGSUMEXP: r = at::logsumexp(x, d, keep); break;
    default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  MOE_CATCH
}

int32_t moe_max_dim(moe_tensor a, int64_t dim, int32_t keepdim, moe_tensor* values, moe_tensor* indices) {
  MOE_TRY
  auto result = at::max(T(a), dim, keepdim != 0);
  *values = wrap(std::get<0>(result));
  *indices = wrap(std::get<1>(result));
  MOE_CATCH
}

int32_t moe_argmax(moe_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, moe_tensor* out) {
  MOE_TRY
  c10::optional<int64_t> d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
  *out = wrap(at::argmax(T(a), d, keepdim != 0));
  MOE_CATCH
}

int32_t moe_softmax(moe_tensor a, int64_t dim, int32_t log, moe_tensor* out) {
  MOE_TRY
  *out = wrap(log ? at::log_softmax(T(a), dim) : at::softmax(T(a), dim));
  MOE_CATCH
}

// ---- shapes --------------------------------------------------------------------------------

static void require_args(int32_t nargs, int32_t expected, const char* op) {
  if (nargs != expected)
    throw std::invalid_argument(std::string(op) + " takes " + std::to_string(expected) + " integer arguments, got " +
                                std::to_string(nargs));
}

int32_t moe_shape_op(int32_t op, moe_tensor a, const int64_t* args, int32_t nargs, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  const at::IntArrayRef list = moe::ints(args, nargs);
  at::Tensor r;
  switch (op) {
    case MOE_SHAPE_VIEW: r = x.view(list); break;
    case MOE_SHAPE_RESHAPE: r = x.reshape(list); break;
    case MOE_SHAPE_EXPAND: r = x.expand(list); break;
    case MOE_SHAPE_PERMUTE: r = x.permute(list); break;
    case MOE_SHAPE_REPEAT: r = x.repeat(list); break;
    case MOE_SHAPE_TRANSPOSE: require_args(nargs, 2, "transpose"); r = x.transpose(args[0], args[1]); break;
    case MOE_SHAPE_SQUEEZE: require_args(nargs, 1, "squeeze"); r = x.squeeze(args[0]); break;
    case MOE_SHAPE_UNSQUEEZE: require_args(nargs, 1, "unsqueeze"); r = x.unsqueeze(args[0]); break;
    case MOE_SHAPE_FLATTEN: require_args(nargs, 2, "flatten"); r = x.flatten(args[0], args[1]); break;
    case MOE_SHAPE_NARROW: require_args(nargs, 3, "narrow"); r = x.narrow(args[0], args[1], args[2]); break;
    case MOE_SHAPE_SELECT: require_args(nargs, 2, "select"); r = x.select(args[0], args[1]); break;
    case MOE_SHAPE_SLICE: require_args(nargs, 4, "slice"); r = x.slice(args[0], args[1], args[2], args[3]); break;
    case MOE_SHAPE_TRIL: require_args(nargs, 1, "tril"); r = at::tril(x, args[0]); break;
    case MOE_SHAPE_TRIU: require_args(nargs, 1, "triu"); r = at::triu(x, args[0]); break;
    case MOE_SHAPE_CUMSUM: require_args(nargs, 1, "cumsum"); r = at::cumsum(x, args[0]); break;
    case MOE_SHAPE_ONE_HOT: require_args(nargs, 1, "one_hot"); r = at::one_hot(x, args[0]); break;
    case MOE_SHAPE_REPEAT_INTERLEAVE:
      require_args(nargs, 2, "repeat_interleave");
      r = at::repeat_interleave(x, args[0], args[1]);
      break;
    default: throw std::invalid_argument("unknown shape op " + std::to_string(op));
  }
  *out = wrap(std::move(r));
  MOE_CATCH
}

int32_t moe_cat(const moe_tensor* tensors, int32_t count, int64_t dim, int32_t stack, moe_tensor* out) {
  MOE_TRY
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) list.push_back(T(tensors[i]));
  *out = wrap(stack ? at::stack(list, dim) : at::cat(list, dim));
  MOE_CATCH
}

int32_t moe_split(moe_tensor a, const int64_t* sizes, int32_t count, int64_t dim, moe_tensor* outs) {
  MOE_TRY
  std::vector<at::Tensor> pieces = at::split_with_sizes(T(a), moe::ints(sizes, count), dim);
  for (int32_t i = 0; i < count; ++i) outs[i] = wrap(std::move(pieces[static_cast<size_t>(i)]));
  MOE_CATCH
}

// ---- indexing ------------------------------------------------------------------------------

int32_t moe_embedding(moe_tensor weight, moe_tensor indices, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::embedding(T(weight), T(indices)));
  MOE_CATCH
}

int32_t moe_index_select(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::index_select(T(a), dim, T(index)));
  MOE_CATCH
}

int32_t moe_gather(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::gather(T(a), dim, T(index)));
  MOE_CATCH
}

int32_t moe_scatter_add(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor source, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::scatter_add(T(a), dim, T(index), T(source)));
  MOE_CATCH
}

int32_t moe_index_add(moe_tensor a, int64_t dim, moe_tensor index, moe_tensor source, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::index_add(T(a), dim, T(index), T(source)));
  MOE_CATCH
}

int32_t moe_topk(moe_tensor a, int64_t k, int64_t dim, int32_t largest, int32_t sorted, moe_tensor* values,
                 moe_tensor* indices) {
  MOE_TRY
  auto result = at::topk(T(a), k, dim, largest != 0, sorted != 0);
  *values = wrap(std::get<0>(result));
  *indices = wrap(std::get<1>(result));
  MOE_CATCH
}

int32_t moe_sort(moe_tensor a, int64_t dim, int32_t descending, int32_t stable, moe_tensor* values,
                 moe_tensor* indices) {
  MOE_TRY
  auto result = at::sort(T(a), c10::optional<bool>(stable != 0), dim, descending != 0);
  *values = wrap(std::get<0>(result));
  *indices = wrap(std::get<1>(result));
  MOE_CATCH
}

int32_t moe_bincount(moe_tensor a, moe_tensor weights, int64_t minlength, moe_tensor* out) {
  MOE_TRY
  *out = wrap(at::bincount(T(a), moe::optional_tensor(weights), minlength));
  MOE_CATCH
}

// ---- neural-network functions --------------------------------------------------------------

int32_t moe_cross_entropy(moe_tensor logits, moe_tensor targets, int64_t ignore_index, int32_t reduction,
                          double label_smoothing, moe_tensor* out) {
  MOE_TRY
  if (reduction < MOE_REDUCTION_NONE || reduction > MOE_REDUCTION_SUM)
    throw std::invalid_argument("unknown reduction " + std::to_string(reduction));
  // moe_reduction uses at::Reduction's numbering: None = 0, Mean = 1, Sum = 2.
  *out = wrap(at::cross_entropy_loss(T(logits), T(targets), c10::nullopt, reduction, ignore_index, label_smoothing));
  MOE_CATCH
}

int32_t moe_dropout(moe_tensor a, double p, int32_t training, moe_generator generator, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& x = T(a);
  if (!training || p == 0.0) {
    *out = wrap(x);
  } else if (generator == nullptr) {
    *out = wrap(at::dropout(x, p, true));
  } else {
    if (p < 0.0 || p > 1.0) throw std::invalid_argument("dropout probability must be in [0, 1]");
    if (p == 1.0) {
      // Everything dropped, as torch.dropout: zeros that keep the graph connected.
      *out = wrap(x * 0.0);
      return MOE_OK;
    }
    at::Tensor keep = at::empty(x.sizes(), x.options().device(at::kCPU).requires_grad(false))
                          .bernoulli_(1.0 - p, moe::generator_of(generator))
                          .to(x.device());
    *out = wrap(x * keep / (1.0 - p));
  }
  MOE_CATCH
}

// ---- in place ------------------------------------------------------------------------------

int32_t moe_inplace(int32_t op, moe_tensor a, moe_tensor b, double value) {
  MOE_TRY
  at::Tensor& x = T(a);
  switch (op) {
    case MOE_INPLACE_ZERO: x.zero_(); break;
    case MOE_INPLACE_FILL: x.fill_(value); break;
    case MOE_INPLACE_COPY: x.copy_(T(b)); break;
    case MOE_INPLACE_ADD: x.add_(T(b), value); break;
    case MOE_INPLACE_MUL_SCALAR: x.mul_(value); break;
    default: throw std::invalid_argument("unknown in-place op " + std::to_string(op));
  }
  MOE_CATCH
}

// ---- autograd ------------------------------------------------------------------------------

int32_t moe_backward(moe_tensor a, moe_tensor gradient, int32_t retain_graph) {
  MOE_TRY
  const at::Tensor& x = T(a);
  at::Tensor g = gradient == nullptr ? at::Tensor() : T(gradient);
  x.backward(g, c10::optional<bool>(retain_graph != 0), /*create_graph=*/false);
  MOE_CATCH
}

int32_t moe_tensor_grad(moe_tensor a, moe_tensor* out) {
  MOE_TRY
  const at::Tensor& g = T(a).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  MOE_CATCH
}

// As PyTorch's `tensor.grad = g`, a gradient must match its tensor's shape, dtype and device:
// libtorch itself would accept any tensor and fail (or broadcast) only at the next accumulation.
int32_t moe_tensor_set_grad(moe_tensor a, moe_tensor gradient) {
  MOE_TRY
  at::Tensor& x = T(a);
  if (gradient == nullptr) {
    x.mutable_grad() = at::Tensor();
  } else {
    const at::Tensor& g = T(gradient);
    if (g.sizes() != x.sizes() || g.scalar_type() != x.scalar_type() || g.device() != x.device()) {
      std::ostringstream message;
      message << "a gradient of shape " << g.sizes() << ", " << g.scalar_type() << " on " << g.device()
              << " cannot be assigned to a tensor of shape " << x.sizes() << ", " << x.scalar_type() << " on "
              << x.device() << ": it must match all three";
      throw std::invalid_argument(message.str());
    }
    x.mutable_grad() = g;
  }
  MOE_CATCH
}

int32_t moe_tensor_set_requires_grad(moe_tensor a, int32_t requires_grad) {
  MOE_TRY
  T(a).set_requires_grad(requires_grad != 0);
  MOE_CATCH
}

}  // extern "C"
