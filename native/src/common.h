// Shared plumbing for the exports: status codes, the per-thread error message, handle casts.
#pragma once

#include <c10/util/Optional.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <string>

#include "moe_native.h"

namespace moe {

// The last error of the calling thread. The managed side reads it right after a failed call
// on the same thread (a P/Invoke call does not switch threads), then releases it.
void set_last_error(const char* message);

inline at::Tensor& T(moe_tensor handle) {
  if (handle == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(handle);
}

inline moe_tensor wrap(at::Tensor tensor) {
  return reinterpret_cast<moe_tensor>(new at::Tensor(std::move(tensor)));
}

inline c10::optional<at::Tensor> optional_tensor(moe_tensor handle) {
  if (handle == nullptr) return c10::nullopt;
  return *reinterpret_cast<at::Tensor*>(handle);
}

inline at::IntArrayRef ints(const int64_t* values, int32_t count) {
  return at::IntArrayRef(values, static_cast<size_t>(count));
}

inline at::Device device_of(int32_t device_type, int32_t device_index) {
  switch (device_type) {
    case MOE_DEVICE_CPU: return at::Device(at::kCPU);
    case MOE_DEVICE_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index));
    default: throw std::invalid_argument("unknown device type " + std::to_string(device_type));
  }
}

inline at::TensorOptions options_of(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(device_of(device_type, device_index));
}

// Integral tensors keep integral results when combined with an integral scalar.
// Converting a double outside int64's range (or NaN) is undefined behaviour, so it is refused.
inline at::Scalar scalar_of(double value, int32_t integral) {
  if (integral) {
    if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0))
      throw std::invalid_argument("value " + std::to_string(value) + " does not fit an int64");
    return at::Scalar(static_cast<int64_t>(value));
  }
  return at::Scalar(value);
}

}  // namespace moe

// Every export body runs inside MOE_TRY ... MOE_CATCH: no C++ exception crosses the boundary.
#define MOE_TRY try {
#define MOE_CATCH                                                        \
  return MOE_OK;                                                         \
  }                                                                      \
  catch (const c10::Error& e) {                                          \
    moe::set_last_error(e.what_without_backtrace());                     \
    return MOE_ERROR_TORCH;                                              \
  }                                                                      \
  catch (const std::invalid_argument& e) {                               \
    moe::set_last_error(e.what());                                       \
    return MOE_ERROR_ARGUMENT;                                           \
  }                                                                      \
  catch (const std::exception& e) {                                      \
    moe::set_last_error(e.what());                                       \
    return MOE_ERROR_STD;                                                \
  }                                                                      \
  catch (...) {                                                          \
    moe::set_last_error("unknown native exception");                     \
    return MOE_ERROR_UNKNOWN;                                            \
  }
