// The C++ reference for the binding's benchmarks (bench/Orleans.MoE.Bench): the same ops on the
// same libtorch with no .NET in between.
//
// It is driven over stdin/stdout, one command per line, so that the C# benchmark can alternate
// repetitions between this process and itself: both sides then see the same machine load, which
// matters on small shared machines. Every reply is one line.
//
//   env                        -> env torch_version=<v> omp_wait_policy=<value or (unset)>
//   threads <n>                -> threads <at::get_num_threads() after at::set_num_threads(n)>
//   warm <column> <op> <secs>  -> warmed <iterations run>      (runs the op until secs have passed)
//   run <column> <op> <iters>  -> seconds <wall seconds> <thread CPU seconds>  (for iters iterations)
//   quit
//
// Columns and ops:
//   cpp  add | mul_scalar | relu   at::add(a, b) / at::mul(a, 2.0) / at::relu(a) on (16,) fp32; the
//                                  result is released at the end of every iteration
//   cabi add | mul_scalar | relu   the same through libmoe_native's C ABI (moe_<op> + moe_tensor_free):
//                                  the binding's native layer without .NET
//   cpp  matmul1024                at::matmul of two (1024, 1024) fp32 tensors, a new result per call
//
// Try it by hand: printf 'threads 1\nrun cpp add 100000\n' | build/bench-native/op_overhead
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "moe_native.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: unlike wall time it does not grow while other processes run.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void check(int32_t status, const char* what) {
  if (status != MOE_OK) {
    std::fprintf(stderr, "%s failed with status %d\n", what, status);
    std::exit(2);
  }
}

using Body = std::function<void(int64_t)>;  // runs that many iterations

struct Operands {
  at::Tensor a = at::randn({16});  // (16,) fp32
  at::Tensor b = at::randn({16});  // (16,) fp32
  moe_tensor ha = reinterpret_cast<moe_tensor>(new at::Tensor(a));
  moe_tensor hb = reinterpret_cast<moe_tensor>(new at::Tensor(b));
  at::Tensor x, y;  // (1024, 1024) fp32, made on first use

  const at::Tensor& big_x() { ensure_big(); return x; }
  const at::Tensor& big_y() { ensure_big(); return y; }
  void ensure_big() {
    if (!x.defined()) {
      x = at::randn({1024, 1024});
      y = at::randn({1024, 1024});
    }
  }
};

std::map<std::string, Body> bodies(Operands& o) {
  std::map<std::string, Body> m;
  m["cpp add"] = [&o](int64_t n) { for (int64_t i = 0; i < n; ++i) { at::Tensor r = at::add(o.a, o.b); } };
  m["cpp mul_scalar"] = [&o](int64_t n) { for (int64_t i = 0; i < n; ++i) { at::Tensor r = at::mul(o.a, at::Scalar(2.0)); } };
  m["cpp relu"] = [&o](int64_t n) { for (int64_t i = 0; i < n; ++i) { at::Tensor r = at::relu(o.a); } };
  m["cabi add"] = [&o](int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      moe_tensor r;
      check(moe_binary(MOE_BINARY_ADD, o.ha, o.hb, &r), "moe_binary");
      check(moe_tensor_free(r), "moe_tensor_free");
    }
  };
  m["cabi mul_scalar"] = [&o](int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      moe_tensor r;
      check(moe_scalar(MOE_SCALAR_MUL, o.ha, 2.0, 0, &r), "moe_scalar");
      check(moe_tensor_free(r), "moe_tensor_free");
    }
  };
  m["cabi relu"] = [&o](int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      moe_tensor r;
      check(moe_unary(MOE_UNARY_RELU, o.ha, &r), "moe_unary");
      check(moe_tensor_free(r), "moe_tensor_free");
    }
  };
  m["cpp matmul1024"] = [&o](int64_t n) {
    const at::Tensor& x = o.big_x();
    const at::Tensor& y = o.big_y();
    for (int64_t i = 0; i < n; ++i) { at::Tensor r = at::matmul(x, y); }  // (1024, 1024)
  };
  return m;
}

}  // namespace

int main() {
  Operands operands;
  const auto table = bodies(operands);
  auto find = [&](const std::string& column, const std::string& op) -> const Body* {
    auto it = table.find(column + " " + op);
    return it == table.end() ? nullptr : &it->second;
  };

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command, column, op;
    in >> command;
    if (command == "quit") break;
    if (command == "env") {
      const char* policy = std::getenv("OMP_WAIT_POLICY");
      std::cout << "env torch_version=" << TORCH_VERSION << " omp_wait_policy=" << (policy ? policy : "(unset)") << std::endl;
    } else if (command == "threads") {
      int n = 0;
      in >> n;
      if (n > 0) at::set_num_threads(n);
      std::cout << "threads " << at::get_num_threads() << std::endl;
    } else if (command == "warm" || command == "run") {
      double amount = 0;
      in >> column >> op >> amount;
      const Body* body = find(column, op);
      if (body == nullptr || amount <= 0) {
        std::cout << "error unknown or malformed command: " << line << std::endl;
        continue;
      }
      const auto start = Clock::now();
      const double cpu_start = thread_cpu_seconds();
      if (command == "warm") {
        int64_t iterations = 0;
        do { (*body)(1); ++iterations; } while (seconds_since(start) < amount);
        std::cout << "warmed " << iterations << std::endl;
      } else {
        (*body)(static_cast<int64_t>(amount));
        const double seconds = seconds_since(start);
        const double cpu = thread_cpu_seconds() - cpu_start;
        char reply[96];
        std::snprintf(reply, sizeof reply, "seconds %.9f %.9f", seconds, cpu);
        std::cout << reply << std::endl;
      }
    } else if (!command.empty()) {
      std::cout << "error unknown command: " << line << std::endl;
    }
  }
  check(moe_tensor_free(operands.ha), "moe_tensor_free");
  check(moe_tensor_free(operands.hb), "moe_tensor_free");
  return 0;
}
