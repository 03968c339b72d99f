// Generator handles: a moe_generator is an owned at::Generator (CPU), so seeded sampling is
// reproducible and its state can be saved in checkpoints.
#pragma once

#include "common.h"

namespace moe {

inline c10::optional<at::Generator> generator_of(moe_generator handle) {
  if (handle == nullptr) return c10::nullopt;
  return *reinterpret_cast<at::Generator*>(handle);
}

}  // namespace moe
