// Runtime exports (errors, capabilities, threads, seeds, grad mode), generators, and the
// optimisation path: global-norm clipping and a fused AdamW over every parameter.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#if defined(MOE_WITH_CUDA)
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common.h"
#include "generator.h"

using moe::T;
using moe::wrap;

namespace moe {

static thread_local std::string last_error;

void set_last_error(const char* message) { last_error = message == nullptr ? "" : message; }

#if TORCH_VERSION_MAJOR < 2
// libtorch 1.x symbolizes a full C++ backtrace whenever a c10::Error is constructed: ~8 ms per
// failed call (a shape mismatch, say), measured here and in PyTorch alike. The exports report
// what_without_backtrace(), so that backtrace is never shown; skip collecting it unless
// MOE_NATIVE_CPP_BACKTRACES=1 asks for it (e.g. to debug the native layer). libtorch 2.x collects
// backtraces lazily and needs nothing.
[[maybe_unused]] static const bool cheap_error_backtraces = [] {
  const char* wanted = std::getenv("MOE_NATIVE_CPP_BACKTRACES");
  if (wanted == nullptr || std::strcmp(wanted, "1") != 0) {
    c10::SetStackTraceFetcher([] { return std::string("(C++ backtrace not collected; set MOE_NATIVE_CPP_BACKTRACES=1)"); });
  }
  return true;
}();
#endif

static int32_t copy_out(const std::string& text, char* buffer, int64_t capacity, int64_t* length) {
  *length = static_cast<int64_t>(text.size());
  if (buffer != nullptr && capacity > 0)
    std::memcpy(buffer, text.data(), static_cast<size_t>(std::min<int64_t>(capacity, *length)));
  return MOE_OK;
}

// One parameter's AdamW state, laid out like torch.optim.AdamW's.
struct AdamWSlot {
  at::Tensor parameter;
  int32_t group = 0;
  int64_t step = 0;
  at::Tensor exp_avg;
  at::Tensor exp_avg_sq;
};

struct AdamWGroup {
  double lr, beta1, beta2, eps, weight_decay;
};

struct AdamW {
  std::vector<AdamWSlot> slots;
  std::vector<AdamWGroup> groups;
};

static AdamW& adamw_of(moe_adamw handle) {
  if (handle == nullptr) throw std::invalid_argument("null optimizer handle");
  return *reinterpret_cast<AdamW*>(handle);
}

static AdamWSlot& slot_of(AdamW& optimizer, int32_t index) {
  if (index < 0 || static_cast<size_t>(index) >= optimizer.slots.size())
    throw std::invalid_argument("parameter index " + std::to_string(index) + " out of range");
  return optimizer.slots[static_cast<size_t>(index)];
}

}  // namespace moe

extern "C" {

int32_t moe_last_error(char* buffer, int64_t capacity, int64_t* length) {
  moe::copy_out(moe::last_error, buffer, capacity, length);
  if (*length <= capacity) {
    // Release the message's memory once the caller holds all of it.
    std::string().swap(moe::last_error);
  }
  return MOE_OK;
}

int32_t moe_version(char* buffer, int64_t capacity, int64_t* length) {
  MOE_TRY
  moe::copy_out(TORCH_VERSION, buffer, capacity, length);
  MOE_CATCH
}

int32_t moe_capabilities(int32_t* cuda_available, int32_t* cuda_device_count) {
  MOE_TRY
  *cuda_available = torch::cuda::is_available() ? 1 : 0;
  *cuda_device_count = static_cast<int32_t>(torch::cuda::device_count());
  MOE_CATCH
}

int32_t moe_cuda_built(int32_t* built) {
  MOE_TRY
#if defined(MOE_WITH_CUDA)
  *built = 1;
#else
  *built = 0;
#endif
  MOE_CATCH
}

int32_t moe_cuda_memory(int32_t device_index, int64_t* free_bytes, int64_t* total_bytes) {
  MOE_TRY
  if (free_bytes == nullptr || total_bytes == nullptr) throw std::invalid_argument("null argument");
#if defined(MOE_WITH_CUDA)
  const auto count = static_cast<int32_t>(torch::cuda::device_count());
  if (device_index < 0 || device_index >= count)
    throw std::invalid_argument("no CUDA device " + std::to_string(device_index) + ": libtorch sees " +
                                std::to_string(count));
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index));
  size_t free_memory = 0, total_memory = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free_memory, &total_memory));
  *free_bytes = static_cast<int64_t>(free_memory);
  *total_bytes = static_cast<int64_t>(total_memory);
#else
  throw std::invalid_argument("CUDA is not available: this native library was built against a libtorch without CUDA (" TORCH_VERSION
                              "); build it against a CUDA libtorch (README: Building against another libtorch (CUDA))");
#endif
  MOE_CATCH
}

int32_t moe_cuda_synchronize(int32_t device_index) {
  MOE_TRY
  // Kernels run asynchronously: a wall-clock measurement ends only when the device is done.
  if (torch::cuda::is_available()) torch::cuda::synchronize(device_index);
  MOE_CATCH
}

// Automatic mixed precision on one device type: matrix products run in the given lower precision
// while the parameters, their gradients and AdamW stay float32 (torch.autocast). Leaving it clears
// the cache of weights cast for the region, as torch.autocast's exit does: the next region must
// cast the weights the optimizer has updated since.
int32_t moe_autocast(int32_t enabled, int32_t device_type, int32_t dtype) {
  MOE_TRY
  const auto lower = static_cast<at::ScalarType>(dtype);
  if (enabled && lower != at::kBFloat16 && lower != at::kHalf)
    throw std::invalid_argument("autocast needs bfloat16 or float16, got " + std::string(c10::toString(lower)));
  const at::DeviceType device = moe::device_of(device_type, 0).type();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  // 2.4 replaced the per-device functions (set_enabled, set_cpu_enabled, ...) by ones taking the device type.
  if (enabled) at::autocast::set_autocast_dtype(device, lower);
  at::autocast::set_autocast_enabled(device, enabled != 0);
#else
  if (device == at::kCUDA) {
    if (enabled) at::autocast::set_autocast_gpu_dtype(lower);
    at::autocast::set_enabled(enabled != 0);
  } else {
    if (enabled) at::autocast::set_autocast_cpu_dtype(lower);
    at::autocast::set_cpu_enabled(enabled != 0);
  }
#endif
  if (!enabled) at::autocast::clear_cache();
  MOE_CATCH
}

int32_t moe_set_num_threads(int32_t threads) {
  MOE_TRY
  if (threads < 1) throw std::invalid_argument("thread count must be at least 1");
  at::set_num_threads(threads);
  // OpenBLAS (libtorch's BLAS here) keeps its own thread pool, sized once from OMP_NUM_THREADS
  // when it loads, and at::set_num_threads leaves it alone. Its matrix products sum in another
  // order with another thread count, so a run's losses would depend on the process's environment
  // (a job's slot on one silo or another) instead of the configured threads: set it too. Looked up
  // at run time, so that a libtorch with another BLAS (MKL, a CUDA build) needs nothing.
  using set_blas_threads = void (*)(int);
  static const auto openblas_set_num_threads = [] {
    auto* found = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    // Loaded into a local scope (as a dependency of a library opened RTLD_LOCAL): ask it directly.
    if (void* openblas = found == nullptr ? dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD) : nullptr) found = dlsym(openblas, "openblas_set_num_threads");
    return reinterpret_cast<set_blas_threads>(found);
  }();
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  MOE_CATCH
}

int32_t moe_get_num_threads(int32_t* threads) {
  MOE_TRY
  *threads = at::get_num_threads();
  MOE_CATCH
}

int32_t moe_manual_seed(uint64_t seed) {
  MOE_TRY
  torch::manual_seed(seed);
  MOE_CATCH
}

int32_t moe_set_grad_enabled(int32_t enabled) {
  MOE_TRY
  c10::GradMode::set_enabled(enabled != 0);
  MOE_CATCH
}

int32_t moe_is_grad_enabled(int32_t* enabled) {
  MOE_TRY
  *enabled = c10::GradMode::is_enabled() ? 1 : 0;
  MOE_CATCH
}

// ---- generators ----------------------------------------------------------------------------

int32_t moe_generator_new(uint64_t seed, moe_generator* out) {
  MOE_TRY
  *out = reinterpret_cast<moe_generator>(new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)));
  MOE_CATCH
}

int32_t moe_generator_free(moe_generator generator) {
  MOE_TRY
  delete reinterpret_cast<at::Generator*>(generator);
  MOE_CATCH
}

int32_t moe_generator_get_state(moe_generator generator, moe_tensor* out) {
  MOE_TRY
  at::Generator& g = *reinterpret_cast<at::Generator*>(generator);
  std::lock_guard<std::mutex> lock(g.mutex());
  *out = wrap(g.get_state());
  MOE_CATCH
}

int32_t moe_generator_set_state(moe_generator generator, moe_tensor state) {
  MOE_TRY
  at::Generator& g = *reinterpret_cast<at::Generator*>(generator);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(T(state));
  MOE_CATCH
}

// ---- optimisation --------------------------------------------------------------------------

int32_t moe_clip_grad_norm(const moe_tensor* parameters, int32_t count, double max_norm, double* total_norm) {
  MOE_TRY
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) list.push_back(T(parameters[i]));
  *total_norm = torch::nn::utils::clip_grad_norm_(list, max_norm, 2.0);
  MOE_CATCH
}

int32_t moe_adamw_new(const moe_tensor* parameters, const int32_t* group_of_parameter, int32_t count,
                      const double* hyper, int32_t groups, moe_adamw* out) {
  MOE_TRY
  auto optimizer = std::make_unique<moe::AdamW>();
  for (int32_t g = 0; g < groups; ++g) {
    const double* h = hyper + 5 * g;
    optimizer->groups.push_back({h[0], h[1], h[2], h[3], h[4]});
  }
  for (int32_t i = 0; i < count; ++i) {
    const int32_t group = group_of_parameter[i];
    if (group < 0 || group >= groups)
      throw std::invalid_argument("parameter " + std::to_string(i) + " names group " + std::to_string(group) +
                                  " but there are " + std::to_string(groups));
    moe::AdamWSlot slot;
    slot.parameter = T(parameters[i]);
    slot.group = group;
    optimizer->slots.push_back(std::move(slot));
  }
  *out = reinterpret_cast<moe_adamw>(optimizer.release());
  MOE_CATCH
}

int32_t moe_adamw_free(moe_adamw optimizer) {
  MOE_TRY
  delete reinterpret_cast<moe::AdamW*>(optimizer);
  MOE_CATCH
}

int32_t moe_adamw_set_lr(moe_adamw optimizer, int32_t group, double lr) {
  MOE_TRY
  moe::AdamW& o = moe::adamw_of(optimizer);
  if (group < 0 || static_cast<size_t>(group) >= o.groups.size())
    throw std::invalid_argument("no parameter group " + std::to_string(group));
  o.groups[static_cast<size_t>(group)].lr = lr;
  MOE_CATCH
}

// The same arithmetic, in the same order, as torch.optim.AdamW's single-tensor path in 1.13, so
// that a step here and a step in PyTorch give the same bits.
int32_t moe_adamw_step(moe_adamw optimizer) {
  MOE_TRY
  at::NoGradGuard no_grad;
  moe::AdamW& o = moe::adamw_of(optimizer);
  for (moe::AdamWSlot& slot : o.slots) {
    const at::Tensor& grad = slot.parameter.grad();
    if (!grad.defined()) continue;
    const moe::AdamWGroup& h = o.groups[static_cast<size_t>(slot.group)];
    if (!slot.exp_avg.defined()) {
      slot.exp_avg = at::zeros_like(slot.parameter, at::MemoryFormat::Preserve);
      slot.exp_avg_sq = at::zeros_like(slot.parameter, at::MemoryFormat::Preserve);
    }
    slot.step += 1;
    slot.parameter.mul_(1.0 - h.lr * h.weight_decay);
    slot.exp_avg.mul_(h.beta1).add_(grad, 1.0 - h.beta1);
    slot.exp_avg_sq.mul_(h.beta2).addcmul_(grad, grad, 1.0 - h.beta2);
    const double bias_correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(slot.step));
    const double bias_correction2 = 1.0 - std::pow(h.beta2, static_cast<double>(slot.step));
    const double step_size = h.lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor denom = (slot.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(h.eps);
    slot.parameter.addcdiv_(slot.exp_avg, denom, -step_size);
  }
  MOE_CATCH
}

int32_t moe_adamw_get_state(moe_adamw optimizer, int32_t index, int64_t* step, moe_tensor* exp_avg,
                            moe_tensor* exp_avg_sq) {
  MOE_TRY
  moe::AdamWSlot& slot = moe::slot_of(moe::adamw_of(optimizer), index);
  *step = slot.step;
  *exp_avg = slot.exp_avg.defined() ? wrap(slot.exp_avg) : nullptr;
  *exp_avg_sq = slot.exp_avg_sq.defined() ? wrap(slot.exp_avg_sq) : nullptr;
  MOE_CATCH
}

int32_t moe_adamw_set_state(moe_adamw optimizer, int32_t index, int64_t step, moe_tensor exp_avg,
                            moe_tensor exp_avg_sq) {
  MOE_TRY
  moe::AdamWSlot& slot = moe::slot_of(moe::adamw_of(optimizer), index);
  at::NoGradGuard no_grad;
  if (!T(exp_avg).sizes().equals(slot.parameter.sizes()) || !T(exp_avg_sq).sizes().equals(slot.parameter.sizes()))
    throw std::invalid_argument("optimizer state of parameter " + std::to_string(index) +
                                " does not have the parameter's shape");
  slot.step = step;
  slot.exp_avg = T(exp_avg).to(slot.parameter.options()).clone();
  slot.exp_avg_sq = T(exp_avg_sq).to(slot.parameter.options()).clone();
  MOE_CATCH
}

}  // extern "C"
