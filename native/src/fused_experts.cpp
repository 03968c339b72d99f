// The fused expert bank of the routed layers: every expert of every group applied in one call, forward
// and backward as one autograd node (the IO-aware expert computation of the Multi-Head LatentMoE paper,
// section 3.4, as a grouped pass on the CPU).
//
// The assignments arrive grouped by expert (order). Each expert gathers its rows into a block that
// lives only while that expert runs, computes its MLP, and adds gate · output into the tokens' rows.
// Nothing of width d_e and no gathered copy of the inputs outlives the call: the backward keeps the
// inputs, the gates and the order, and recomputes each expert's hidden layer from them. Accumulation
// into the tokens' rows runs expert by expert in the order given, so results do not depend on how the
// experts were spread over threads.
#include <torch/csrc/autograd/custom_function.h>

#include <c10/core/impl/LocalDispatchKeySet.h>

#include "common.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One expert's hidden layer from its rows: (n_e, w) -> pre-activations and the activation (n_e, d_e).
struct Hidden {
  at::Tensor up;      // x W_upᵀ
  at::Tensor gate;    // x W_gateᵀ (SwiGLU only)
  at::Tensor output;  // gelu(up), or silu(gate) ⊙ up
};

Hidden hidden_of(const at::Tensor& x, const at::Tensor& w_up, const at::Tensor& w_gate, bool swiglu) {
  Hidden h;
  h.up = at::mm(x, w_up.t());                                  // (n_e, d_e)
  if (swiglu) {
    h.gate = at::mm(x, w_gate.t());                            // (n_e, d_e)
    h.output = at::silu(h.gate) * h.up;
  } else {
    h.output = at::gelu(h.up);
  }
  return h;
}

// The first assignment of each expert in the grouped order.
std::vector<int64_t> offsets_of(const std::vector<int64_t>& counts) {
  std::vector<int64_t> offsets(counts.size() + 1, 0);
  for (size_t e = 0; e < counts.size(); e++) offsets[e + 1] = offsets[e] + counts[e];
  return offsets;
}

struct FusedExperts : public torch::autograd::Function<FusedExperts> {
  // rows (R, w); gates (R, k), or empty when every weight is 1; w_up, w_gate (E, d_e, w) (w_gate empty
  // unless SwiGLU); w_down (E, w, d_e); order (A) Int64: indices into the flattened (R, k) assignments,
  // grouped by expert, counts[e] of them for expert e; row of assignment a = a / k.
  //
  // Experts run in parallel (each one's small products on one thread beat every product split over
  // all threads); their results are added into the tokens' rows afterwards, expert by expert in order,
  // so the sums do not depend on which thread finished first.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& rows, const at::Tensor& gates,
                               const at::Tensor& w_up, const at::Tensor& w_gate, const at::Tensor& w_down,
                               const at::Tensor& order, std::vector<int64_t> counts, int64_t k, bool swiglu) {
    auto output = at::zeros_like(rows);                                          // (R, w)
    auto source = at::div(order, k, "floor");                                    // (A) token row of each assignment
    auto flat_gates = gates.numel() > 0 ? gates.reshape({-1}) : at::Tensor();    // (R·k)
    const auto offsets = offsets_of(counts);
    const int64_t experts = static_cast<int64_t>(counts.size());
    std::vector<at::Tensor> results(counts.size());                              // expert e: (n_e, w), gate-weighted
    at::parallel_for(0, experts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t e = begin; e < end; e++) {
        const int64_t n = counts[e];
        if (n == 0) continue;
        auto x = rows.index_select(0, source.narrow(0, offsets[e], n));         // (n_e, w), this expert's block only
        auto hidden = hidden_of(x, w_up[e], swiglu ? w_gate[e] : at::Tensor(), swiglu);
        auto y = at::mm(hidden.output, w_down[e].t());                           // (n_e, w)
        if (flat_gates.defined()) y.mul_(flat_gates.index_select(0, order.narrow(0, offsets[e], n)).unsqueeze(1));
        results[e] = std::move(y);
      }
    });
    for (int64_t e = 0; e < experts; e++)
      if (counts[e] > 0) output.index_add_(0, source.narrow(0, offsets[e], counts[e]), results[e]);
    ctx->save_for_backward({rows, gates, w_up, w_gate, w_down, order});
    ctx->saved_data["counts"] = counts;
    ctx->saved_data["k"] = k;
    ctx->saved_data["swiglu"] = swiglu;
    return {output};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &rows = saved[0], &gates = saved[1], &w_up = saved[2], &w_gate = saved[3], &w_down = saved[4],
               &order = saved[5];
    const auto counts = ctx->saved_data["counts"].toIntVector();
    const int64_t k = ctx->saved_data["k"].toInt();
    const bool swiglu = ctx->saved_data["swiglu"].toBool();
    const auto& grad_output = grads[0];                                          // (R, w)
    const bool want_rows = ctx->needs_input_grad(0), want_gates = gates.numel() > 0 && ctx->needs_input_grad(1);
    const bool want_weights = ctx->needs_input_grad(2) || ctx->needs_input_grad(3) || ctx->needs_input_grad(4);

    at::Tensor grad_rows = want_rows ? at::zeros_like(rows) : at::Tensor();
    at::Tensor grad_flat_gates = want_gates ? at::zeros({gates.numel()}, gates.options()) : at::Tensor();
    at::Tensor grad_up = want_weights ? at::zeros_like(w_up) : at::Tensor();
    at::Tensor grad_gate = want_weights && swiglu ? at::zeros_like(w_gate) : at::Tensor();
    at::Tensor grad_down = want_weights ? at::zeros_like(w_down) : at::Tensor();
    auto result = [&] {
      return variable_list{grad_rows, grad_flat_gates.defined() ? grad_flat_gates.view(gates.sizes()) : at::Tensor(), grad_up,
                           grad_gate, grad_down, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    };
    if (!grad_output.defined()) return result();

    auto source = at::div(order, k, "floor");                                    // (A)
    auto flat_gates = gates.numel() > 0 ? gates.reshape({-1}) : at::Tensor();    // (R·k)
    const auto offsets = offsets_of(counts);
    const int64_t experts = static_cast<int64_t>(counts.size());
    std::vector<at::Tensor> grad_xs(counts.size()), grad_gate_values(counts.size());
    at::parallel_for(0, experts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t e = begin; e < end; e++) {
        const int64_t n = counts[e];
        if (n == 0) continue;
        auto assignments = order.narrow(0, offsets[e], n);                       // (n_e)
        auto x = rows.index_select(0, source.narrow(0, offsets[e], n));         // (n_e, w)
        auto hidden = hidden_of(x, w_up[e], swiglu ? w_gate[e] : at::Tensor(), swiglu);   // recomputed
        auto grad_y = grad_output.index_select(0, source.narrow(0, offsets[e], n));       // (n_e, w), d(gate · y)
        // d(gate · y)/dh = gate · (grad_y W_down): one product serves the gate's gradient ⟨grad_y, y⟩ =
        // Σ (grad_y W_down) ⊙ h and the hidden layer's, without recomputing y.
        auto grad_hidden = at::mm(grad_y, w_down[e]);                            // (n_e, d_e), for gate 1
        if (flat_gates.defined()) {
          if (want_gates) grad_gate_values[e] = (grad_hidden * hidden.output).sum(1);   // (n_e)
          auto gate = flat_gates.index_select(0, assignments).unsqueeze(1);      // (n_e, 1)
          grad_y = grad_y * gate;                                                // (n_e, w)
          grad_hidden.mul_(gate);
        }
        if (want_weights) grad_down[e].copy_(at::mm(grad_y.t(), hidden.output));   // (w, d_e)
        if (swiglu) {
          auto grad_up_pre = grad_hidden * at::silu(hidden.gate);                                  // (n_e, d_e)
          auto grad_gate_pre = at::silu_backward(grad_hidden * hidden.up, hidden.gate);            // (n_e, d_e)
          if (want_weights) {
            grad_up[e].copy_(at::mm(grad_up_pre.t(), x));                        // (d_e, w)
            grad_gate[e].copy_(at::mm(grad_gate_pre.t(), x));                    // (d_e, w)
          }
          if (want_rows) grad_xs[e] = at::mm(grad_up_pre, w_up[e]).add_(at::mm(grad_gate_pre, w_gate[e]));   // (n_e, w)
        } else {
          auto grad_pre = at::gelu_backward(grad_hidden, hidden.up);             // (n_e, d_e)
          if (want_weights) grad_up[e].copy_(at::mm(grad_pre.t(), x));           // (d_e, w)
          if (want_rows) grad_xs[e] = at::mm(grad_pre, w_up[e]);                 // (n_e, w)
        }
      }
    });
    for (int64_t e = 0; e < experts; e++) {
      if (counts[e] == 0) continue;
      if (want_rows) grad_rows.index_add_(0, source.narrow(0, offsets[e], counts[e]), grad_xs[e]);
      if (want_gates) grad_flat_gates.index_copy_(0, order.narrow(0, offsets[e], counts[e]), grad_gate_values[e]);
    }
    return result();
  }
};

}  // namespace

extern "C" {

int32_t moe_fused_experts(moe_tensor rows, moe_tensor gates, moe_tensor order, const int64_t* counts, int32_t experts,
                          moe_tensor w_up, moe_tensor w_gate, moe_tensor w_down, int32_t activation, moe_tensor* out) {
  MOE_TRY
  // The fused kernels compute in the weights' dtype: autocast stays off inside them, and reduced-
  // precision rows and gates are cast here, where autograd records the casts.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const auto dtype = moe::T(w_up).scalar_type();
  const at::Tensor x = moe::T(rows).to(dtype);
  if (x.dim() != 2) throw std::invalid_argument("fused experts: rows must be (rows, width)");
  if (activation != MOE_EXPERT_GELU && activation != MOE_EXPERT_SWIGLU)
    throw std::invalid_argument("fused experts: unknown activation " + std::to_string(activation));
  const bool swiglu = activation == MOE_EXPERT_SWIGLU;
  if (swiglu != (w_gate != nullptr))
    throw std::invalid_argument(swiglu ? "fused experts: SwiGLU needs w_gate" : "fused experts: w_gate is only used by SwiGLU");
  const int64_t width = x.size(1);
  const at::Tensor& up = moe::T(w_up);
  const at::Tensor& down = moe::T(w_down);
  const int64_t expert_dim = up.size(-2);
  if (up.numel() != experts * expert_dim * width || up.size(-1) != width || down.numel() != up.numel() ||
      down.size(-2) != width || down.size(-1) != expert_dim)
    throw std::invalid_argument("fused experts: weights must be (..., d_e, width) and (..., width, d_e) for " +
                                std::to_string(experts) + " experts of width " + std::to_string(width));
  std::vector<int64_t> count_list(counts, counts + experts);
  int64_t assignments = 0;
  for (auto c : count_list) {
    if (c < 0) throw std::invalid_argument("fused experts: a negative count");
    assignments += c;
  }
  // Without gates the rows are already grouped: assignment a is row a, weight 1. Absent tensors travel
  // through the autograd function as empty ones (it cannot take undefined inputs).
  at::Tensor gate_tensor = gates != nullptr ? moe::T(gates).to(dtype) : at::empty({0}, x.options());
  const int64_t k = gates != nullptr ? gate_tensor.size(-1) : 1;
  if (gates != nullptr && (gate_tensor.dim() != 2 || gate_tensor.numel() != x.size(0) * k))
    throw std::invalid_argument("fused experts: gates must be (rows, k)");
  at::Tensor order_tensor = order != nullptr ? moe::T(order) : at::arange(x.size(0), x.options().dtype(at::kLong));
  if (order_tensor.numel() != assignments)
    throw std::invalid_argument("fused experts: the counts add up to " + std::to_string(assignments) + " but the order has " +
                                std::to_string(order_tensor.numel()) + " assignments");
  // Views of the stacked weights as (E, ...) are recorded by autograd, so gradients reach the
  // parameters in their own shapes.
  auto up3 = up.reshape({experts, expert_dim, width});
  auto gate3 = swiglu ? moe::T(w_gate).reshape({experts, expert_dim, width}) : at::empty({0}, up.options());
  auto down3 = down.reshape({experts, width, expert_dim});
  auto outputs = FusedExperts::apply(x.contiguous(), gate_tensor, up3, gate3, down3, order_tensor.contiguous(),
                                     std::move(count_list), k, swiglu);
  *out = moe::wrap(outputs[0]);
  MOE_CATCH
}

}  // extern "C"
