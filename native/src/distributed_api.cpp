// c10d for the managed side: the TCPStore rendezvous, a Gloo (or NCCL) process group, the collectives
// the parallel trainer needs with a timeout on each, and an all-to-all that autograd understands.
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(MOE_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>

#include "common.h"

namespace {

// libtorch 2.x split the process group into a front (c10d::ProcessGroup, dispatching by device)
// and backends (c10d::Backend: ProcessGroupGloo, ProcessGroupNCCL), and the backends no longer
// derive from ProcessGroup. A backend has the same collectives as 1.x's ProcessGroup, so the
// exports hold one directly: one backend per group, chosen by the tensors' device.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct StoreHandle {
  c10::intrusive_ptr<c10d::Store> store;
};

struct GroupHandle {
  c10::intrusive_ptr<Collectives> group;
  int rank;
  int world_size;
};

// Shared with the backward nodes, which may outlive the managed counter's handle.
struct TrafficCounter {
  std::atomic<int64_t> calls{0}, sent{0}, received{0}, sent_remote{0}, received_remote{0}, backward_calls{0};
};

struct CounterHandle {
  std::shared_ptr<TrafficCounter> counter;
};

StoreHandle& S(moe_store handle) {
  if (handle == nullptr) throw std::invalid_argument("null store handle");
  return *reinterpret_cast<StoreHandle*>(handle);
}

GroupHandle& G(moe_process_group handle) {
  if (handle == nullptr) throw std::invalid_argument("null process group handle");
  return *reinterpret_cast<GroupHandle*>(handle);
}

std::chrono::milliseconds millis(int64_t timeout_ms) {
  if (timeout_ms <= 0) throw std::invalid_argument("timeout must be positive, got " + std::to_string(timeout_ms) + " ms");
  return std::chrono::milliseconds(timeout_ms);
}

// Waits for a collective; gloo raises on a timeout or a lost peer, and a false return is treated alike.
void finish(const c10::intrusive_ptr<c10d::Work>& work, std::chrono::milliseconds timeout, const char* what) {
  if (!work->wait(timeout)) throw std::runtime_error(std::string(what) + " did not complete");
}

std::vector<int64_t> splits_of(const int64_t* splits, int world_size, int64_t rows, const char* which) {
  if (splits == nullptr) {
    if (rows % world_size != 0)
      throw std::invalid_argument(std::string(which) + ": " + std::to_string(rows) +
                                  " rows cannot be split equally over " + std::to_string(world_size) + " ranks");
    return std::vector<int64_t>(world_size, rows / world_size);
  }
  std::vector<int64_t> result(splits, splits + world_size);
  for (auto s : result)
    if (s < 0) throw std::invalid_argument(std::string(which) + " has a negative split size");
  return result;
}

void count(TrafficCounter* counter, int rank, int64_t row_bytes, const std::vector<int64_t>& in_splits,
           const std::vector<int64_t>& out_splits, bool backward) {
  if (counter == nullptr) return;
  const int64_t sent = std::accumulate(in_splits.begin(), in_splits.end(), int64_t{0}) * row_bytes;
  const int64_t received = std::accumulate(out_splits.begin(), out_splits.end(), int64_t{0}) * row_bytes;
  counter->calls += 1;
  if (backward) counter->backward_calls += 1;
  counter->sent += sent;
  counter->received += received;
  counter->sent_remote += sent - in_splits[rank] * row_bytes;
  counter->received_remote += received - out_splits[rank] * row_bytes;
}

// input (R, ...) contiguous -> (Σ out_splits, ...). Not recorded by autograd.
at::Tensor exchange(GroupHandle& g, const at::Tensor& input, const std::vector<int64_t>& in_splits,
                    const std::vector<int64_t>& out_splits, std::chrono::milliseconds timeout, TrafficCounter* counter,
                    bool backward) {
  at::NoGradGuard no_grad;
  auto source = input.contiguous();
  const int64_t rows = source.dim() == 0 ? 1 : source.size(0);
  if (std::accumulate(in_splits.begin(), in_splits.end(), int64_t{0}) != rows)
    throw std::invalid_argument("all_to_all: input split sizes sum to " +
                                std::to_string(std::accumulate(in_splits.begin(), in_splits.end(), int64_t{0})) +
                                " but the input has " + std::to_string(rows) + " rows");
  auto shape = source.sizes().vec();
  shape[0] = std::accumulate(out_splits.begin(), out_splits.end(), int64_t{0});
  auto output = at::empty(shape, source.options());
  int64_t row_elements = 1;
  for (int64_t d = 1; d < source.dim(); d++) row_elements *= source.size(d);
  const int64_t row_bytes = row_elements * static_cast<int64_t>(source.element_size());
  c10d::AllToAllOptions options;
  options.timeout = timeout;
  // alltoall_base may move the split vectors into its work object: hand it copies.
  auto out_copy = out_splits, in_copy = in_splits;
  finish(g.group->alltoall_base(output, source, out_copy, in_copy, options), timeout, "all_to_all");
  count(counter, g.rank, row_bytes, in_splits, out_splits, backward);
  return output;
}

// The backward of an all-to-all: the same exchange in reverse, splits swapped.
struct AllToAllBackward : public torch::autograd::Node {
  AllToAllBackward(c10::intrusive_ptr<Collectives> group, int rank, int world_size,
                   std::vector<int64_t> in_splits, std::vector<int64_t> out_splits, std::chrono::milliseconds timeout,
                   std::shared_ptr<TrafficCounter> counter)
      : handle_{std::move(group), rank, world_size},
        in_splits_(std::move(in_splits)),
        out_splits_(std::move(out_splits)),
        timeout_(timeout),
        counter_(std::move(counter)) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    // Every rank must take part even when its gradient is undefined (no use of the output downstream).
    auto grad = grads[0].defined() ? grads[0] : at::zeros(output_shape_, output_options_);
    return {exchange(handle_, grad, out_splits_, in_splits_, timeout_, counter_.get(), /*backward=*/true)};
  }

  std::string name() const override { return "AllToAllBackward"; }

  GroupHandle handle_;
  std::vector<int64_t> in_splits_, out_splits_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<TrafficCounter> counter_;
  std::vector<int64_t> output_shape_;
  at::TensorOptions output_options_;
};

}  // namespace

extern "C" {

MOE_API int32_t moe_tcp_store_new(const char* host, int32_t port, int32_t world_size, int32_t is_master,
                                  int64_t timeout_ms, moe_store* out) {
  MOE_TRY
  if (host == nullptr || out == nullptr) throw std::invalid_argument("null argument");
  if (port <= 0 || port > 65535) throw std::invalid_argument("port must be in 1..65535, got " + std::to_string(port));
  if (world_size < 1) throw std::invalid_argument("world size must be at least 1");
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = is_master != 0;
  options.numWorkers = static_cast<std::size_t>(world_size);
  options.waitWorkers = true;
  options.timeout = millis(timeout_ms);
  auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
  *out = reinterpret_cast<moe_store>(new StoreHandle{store});
  MOE_CATCH
}

MOE_API int32_t moe_store_free(moe_store store) {
  MOE_TRY
  delete reinterpret_cast<StoreHandle*>(store);
  MOE_CATCH
}

MOE_API int32_t moe_store_set(moe_store store, const char* key, const uint8_t* value, int64_t length) {
  MOE_TRY
  if (key == nullptr || (value == nullptr && length > 0) || length < 0) throw std::invalid_argument("bad key or value");
  S(store).store->set(key, std::vector<uint8_t>(value, value + length));
  MOE_CATCH
}

MOE_API int32_t moe_store_get(moe_store store, const char* key, int64_t timeout_ms, uint8_t* buffer,
                              int64_t capacity, int64_t* length) {
  MOE_TRY
  if (key == nullptr || length == nullptr) throw std::invalid_argument("null argument");
  auto& s = S(store);
  s.store->wait({key}, millis(timeout_ms));
  auto value = s.store->get(key);
  *length = static_cast<int64_t>(value.size());
  if (buffer != nullptr && static_cast<int64_t>(value.size()) <= capacity && !value.empty())
    std::memcpy(buffer, value.data(), value.size());
  MOE_CATCH
}

MOE_API int32_t moe_store_add(moe_store store, const char* key, int64_t delta, int64_t* value) {
  MOE_TRY
  if (key == nullptr || value == nullptr) throw std::invalid_argument("null argument");
  *value = S(store).store->add(key, delta);
  MOE_CATCH
}

MOE_API int32_t moe_store_check(moe_store store, const char* key, int32_t* present) {
  MOE_TRY
  if (key == nullptr || present == nullptr) throw std::invalid_argument("null argument");
  *present = S(store).store->check({key}) ? 1 : 0;
  MOE_CATCH
}

MOE_API int32_t moe_nccl_available(int32_t* available) {
  MOE_TRY
#if defined(MOE_WITH_NCCL)
  *available = 1;
#else
  *available = 0;
#endif
  MOE_CATCH
}

MOE_API int32_t moe_process_group_new(moe_store store, int32_t backend, int32_t rank, int32_t world_size,
                                      int64_t timeout_ms, const char* bind_address, moe_process_group* out) {
  MOE_TRY
  if (out == nullptr) throw std::invalid_argument("null argument");
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " is outside world size " + std::to_string(world_size));
  auto timeout = millis(timeout_ms);
  c10::intrusive_ptr<Collectives> group;
  if (backend == 0) {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
        bind_address != nullptr && *bind_address != 0 ? bind_address : "127.0.0.1"));
    // One worker thread: collectives are issued one at a time, in order, from the training loop.
    options->threads = 1;
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(S(store).store, rank, world_size, options);
  } else if (backend == 1) {
#if defined(MOE_WITH_NCCL)
    // 1.13's and 2.x's Options::create both take is_high_priority_stream (default false), and both
    // inherit the timeout field from ProcessGroup::Options (1.x) or Backend::Options (2.x).
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    group = c10::make_intrusive<c10d::ProcessGroupNCCL>(S(store).store, rank, world_size, options);
#else
    throw std::invalid_argument(
        "NCCL is not available: this native library was built against a libtorch without CUDA (" TORCH_VERSION
        "); build it against a CUDA libtorch (README: Building against another libtorch (CUDA)) or use the gloo backend");
#endif
  } else {
    throw std::invalid_argument("unknown backend " + std::to_string(backend));
  }
  *out = reinterpret_cast<moe_process_group>(new GroupHandle{group, rank, world_size});
  MOE_CATCH
}

MOE_API int32_t moe_process_group_free(moe_process_group group) {
  MOE_TRY
  delete reinterpret_cast<GroupHandle*>(group);
  MOE_CATCH
}

MOE_API int32_t moe_all_reduce(moe_process_group group, moe_tensor tensor, int32_t op, int64_t timeout_ms,
                               moe_traffic_counter counter) {
  MOE_TRY
  auto& g = G(group);
  auto& t = moe::T(tensor);
  if (!t.is_contiguous()) throw std::invalid_argument("all_reduce needs a contiguous tensor");
  c10d::AllreduceOptions options;
  options.timeout = millis(timeout_ms);
  switch (op) {
    case 0: case 1: options.reduceOp = c10d::ReduceOp::SUM; break;
    case 2: options.reduceOp = c10d::ReduceOp::MAX; break;
    case 3: options.reduceOp = c10d::ReduceOp::MIN; break;
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
  }
  std::vector<at::Tensor> tensors{t};
  finish(g.group->allreduce(tensors, options), options.timeout, "all_reduce");
  if (counter != nullptr) {
    auto& c = *reinterpret_cast<CounterHandle*>(counter)->counter;
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    const int64_t remote = 2 * (g.world_size - 1) * bytes / g.world_size;
    c.calls += 1;
    c.sent += bytes;
    c.received += bytes;
    c.sent_remote += remote;
    c.received_remote += remote;
  }
  // Gloo has no AVG: the sum is divided here, which an integral tensor cannot hold.
  if (op == 1) {
    at::NoGradGuard no_grad;
    if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true))
      throw std::invalid_argument("average of an integral tensor; use sum");
    t.div_(g.world_size);
  }
  MOE_CATCH
}

MOE_API int32_t moe_broadcast(moe_process_group group, moe_tensor tensor, int32_t root, int64_t timeout_ms) {
  MOE_TRY
  auto& g = G(group);
  auto& t = moe::T(tensor);
  if (!t.is_contiguous()) throw std::invalid_argument("broadcast needs a contiguous tensor");
  if (root < 0 || root >= g.world_size) throw std::invalid_argument("root rank " + std::to_string(root) + " is outside the group");
  c10d::BroadcastOptions options;
  options.rootRank = root;
  options.timeout = millis(timeout_ms);
  std::vector<at::Tensor> tensors{t};
  finish(g.group->broadcast(tensors, options), options.timeout, "broadcast");
  MOE_CATCH
}

MOE_API int32_t moe_all_to_all(moe_process_group group, moe_tensor input, const int64_t* input_splits,
                               const int64_t* output_splits, int64_t timeout_ms, moe_traffic_counter counter,
                               moe_tensor* out) {
  MOE_TRY
  auto& g = G(group);
  auto& x = moe::T(input);
  if (x.dim() == 0) throw std::invalid_argument("all_to_all needs at least one dimension");
  auto timeout = millis(timeout_ms);
  auto in_splits = splits_of(input_splits, g.world_size, x.size(0), "input splits");
  auto out_splits = splits_of(output_splits, g.world_size, x.size(0), "output splits");
  auto shared_counter = counter != nullptr ? reinterpret_cast<CounterHandle*>(counter)->counter : nullptr;
  auto output = exchange(g, x, in_splits, out_splits, timeout, shared_counter.get(), /*backward=*/false);
  if (x.requires_grad() && at::GradMode::is_enabled()) {
    auto node = std::shared_ptr<AllToAllBackward>(
        new AllToAllBackward(g.group, g.rank, g.world_size, in_splits, out_splits, timeout, shared_counter),
        torch::autograd::deleteNode);
    node->output_shape_ = output.sizes().vec();
    node->output_options_ = output.options();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    torch::autograd::set_history(output, node);
  }
  *out = moe::wrap(std::move(output));
  MOE_CATCH
}

MOE_API int32_t moe_all_gather(moe_process_group group, moe_tensor input, int64_t timeout_ms, moe_tensor* out) {
  MOE_TRY
  auto& g = G(group);
  at::NoGradGuard no_grad;
  auto x = moe::T(input).contiguous();
  std::vector<at::Tensor> blocks;
  for (int r = 0; r < g.world_size; r++) blocks.push_back(at::empty_like(x));
  std::vector<std::vector<at::Tensor>> outputs{blocks};
  std::vector<at::Tensor> inputs{x};
  c10d::AllgatherOptions options;
  options.timeout = millis(timeout_ms);
  finish(g.group->allgather(outputs, inputs, options), options.timeout, "all_gather");
  *out = moe::wrap(at::stack(outputs[0], 0));
  MOE_CATCH
}

MOE_API int32_t moe_barrier(moe_process_group group, int64_t timeout_ms) {
  MOE_TRY
  c10d::BarrierOptions options;
  options.timeout = millis(timeout_ms);
  finish(G(group).group->barrier(options), options.timeout, "barrier");
  MOE_CATCH
}

MOE_API int32_t moe_traffic_counter_new(moe_traffic_counter* out) {
  MOE_TRY
  if (out == nullptr) throw std::invalid_argument("null argument");
  *out = reinterpret_cast<moe_traffic_counter>(new CounterHandle{std::make_shared<TrafficCounter>()});
  MOE_CATCH
}

MOE_API int32_t moe_traffic_counter_free(moe_traffic_counter counter) {
  MOE_TRY
  delete reinterpret_cast<CounterHandle*>(counter);
  MOE_CATCH
}

MOE_API int32_t moe_traffic_counter_read(moe_traffic_counter counter, int64_t* values, int32_t reset) {
  MOE_TRY
  if (counter == nullptr || values == nullptr) throw std::invalid_argument("null argument");
  auto& c = *reinterpret_cast<CounterHandle*>(counter)->counter;
  std::atomic<int64_t>* fields[] = {&c.calls, &c.sent, &c.received, &c.sent_remote, &c.received_remote, &c.backward_calls};
  for (int i = 0; i < 6; i++) values[i] = reset ? fields[i]->exchange(0) : fields[i]->load();
  MOE_CATCH
}

}  // extern "C"
