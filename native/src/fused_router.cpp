// The fused router of the routed layers (Multi-Head LatentMoE paper, Algorithms 1-2, on the CPU):
// logits, balancing-biased top-k, gates, per-expert counts and the expert-grouped order in one call,
// one autograd node whose backward goes through the gates only.
//
// The logits of a group are computed one block of tokens at a time, so a (tokens, N_e) matrix never
// exists whole: only (block, N_e) does, and only the k selected logits' softmax (the gates) is kept.
// The backward needs nothing else: the softmax Jacobian needs the gates, and the logits' own
// gradient is a k-sparse (block, N_e) matrix rebuilt block by block.
#include <torch/csrc/autograd/custom_function.h>

#include <c10/core/impl/LocalDispatchKeySet.h>

#include "common.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows of one logits block: about 64 Ki logits (256 KiB in float32) stay in a core's L2 cache while
// top-k reads them; never fewer than 16 rows, so that the block's matrix product stays a GEMM.
int64_t block_rows(int64_t requested, int64_t tokens, int64_t experts) {
  int64_t rows = requested > 0 ? requested : std::max<int64_t>(16, (64 * 1024) / std::max<int64_t>(experts, 1));
  return std::max<int64_t>(1, std::min(rows, tokens));
}

struct FusedRouterGates : public torch::autograd::Function<FusedRouterGates> {
  // x (G, n, d); router (G, N_e, d); bias (G, N_e) float32. Returns gates (G·n, k) in x's dtype,
  // expert ids (G, n, k) Int64 within the group (not differentiable).
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& router,
                               const at::Tensor& bias, int64_t k, int64_t chunk_rows) {
    const int64_t groups = x.size(0), tokens = x.size(1), experts = router.size(1);
    auto gates = at::empty({groups, tokens, k}, x.options());                    // (G, n, k)
    auto chosen = at::empty({groups, tokens, k}, x.options().dtype(at::kLong));  // (G, n, k)
    const int64_t rows = block_rows(chunk_rows, tokens, experts);
    for (int64_t g = 0; g < groups; g++) {
      auto weight_t = router[g].t();                                             // (d, N_e)
      auto bias_g = bias[g].to(x.scalar_type());                                 // (N_e)
      for (int64_t start = 0; start < tokens; start += rows) {
        const int64_t count = std::min(rows, tokens - start);
        auto logits = at::mm(x[g].narrow(0, start, count), weight_t);            // (b, N_e), unbiased
        auto selection = logits + bias_g;                                        // (b, N_e), for selection only
        auto top = std::get<1>(at::topk(selection, k, /*dim=*/-1));              // (b, k) index within the group
        auto selected = logits.gather(-1, top);                                  // (b, k) unbiased logits
        gates[g].narrow(0, start, count).copy_(at::softmax(selected, -1));
        chosen[g].narrow(0, start, count).copy_(top);
      }
    }
    ctx->save_for_backward({x, router, gates, chosen});
    ctx->saved_data["chunk_rows"] = rows;
    ctx->mark_non_differentiable({chosen});
    return {gates.view({groups * tokens, k}), chosen};
  }

  // grads[0] (G·n, k) for the gates; the ids have none.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &router = saved[1], &gates = saved[2], &chosen = saved[3];
    const int64_t groups = x.size(0), tokens = x.size(1), k = gates.size(2), experts = router.size(1);
    const int64_t rows = ctx->saved_data["chunk_rows"].toInt();
    at::Tensor grad_x, grad_router;
    const bool want_x = ctx->needs_input_grad(0), want_router = ctx->needs_input_grad(1);
    if (!grads[0].defined() || (!want_x && !want_router)) return {grad_x, grad_router, at::Tensor(), at::Tensor(), at::Tensor()};
    auto grad_gates = grads[0].view({groups, tokens, k});                         // (G, n, k)
    // Softmax backward over the k selected logits: dl = s ⊙ (dg − Σ dg ⊙ s).
    auto grad_selected = gates * (grad_gates - (grad_gates * gates).sum(-1, /*keepdim=*/true));   // (G, n, k)
    if (want_x) grad_x = at::empty_like(x);
    if (want_router) grad_router = at::zeros_like(router);
    for (int64_t g = 0; g < groups; g++) {
      for (int64_t start = 0; start < tokens; start += rows) {
        const int64_t count = std::min(rows, tokens - start);
        // (b, N_e): the logits' gradient, zero outside the k selected columns of each row.
        auto grad_logits = at::zeros({count, experts}, x.options())
                               .scatter_(-1, chosen[g].narrow(0, start, count), grad_selected[g].narrow(0, start, count));
        if (want_x) {
          auto grad_block = grad_x[g].narrow(0, start, count);                  // (b, d), a view written in place
          at::mm_out(grad_block, grad_logits, router[g]);
        }
        if (want_router) grad_router[g].addmm_(grad_logits.t(), x[g].narrow(0, start, count));   // (N_e, d)
      }
    }
    return {grad_x, grad_router, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

extern "C" {

int32_t moe_fused_route(moe_tensor x, moe_tensor router, moe_tensor bias, int64_t k, int64_t chunk_rows,
                        moe_tensor* gates, moe_tensor* expert_ids, moe_tensor* counts, moe_tensor* order) {
  MOE_TRY
  // The fused kernels compute in the weights' dtype: autocast stays off inside them, and a reduced-
  // precision input is cast here, where autograd records the cast.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const at::Tensor &weight = moe::T(router), &balance = moe::T(bias);
  const at::Tensor input = moe::T(x).to(weight.scalar_type());
  if (input.dim() != 3 || weight.dim() != 3 || balance.dim() != 2)
    throw std::invalid_argument("fused route: expected x (groups, tokens, d), router (groups, experts, d) and bias (groups, experts)");
  const int64_t groups = input.size(0), experts = weight.size(1);
  if (weight.size(0) != groups || weight.size(2) != input.size(2) || balance.size(0) != groups || balance.size(1) != experts)
    throw std::invalid_argument("fused route: x, router and bias disagree on groups, experts or width");
  if (k < 1 || k > experts)
    throw std::invalid_argument("fused route: k = " + std::to_string(k) + " must be in 1.." + std::to_string(experts));
  auto outputs = FusedRouterGates::apply(input.contiguous(), weight.contiguous(), balance, k, chunk_rows);

  // Global ids g·N_e + e, row-major over (G, n, k), and a stable counting sort of them: the
  // assignments grouped by expert in the order argsort(stable) would give.
  at::Tensor ids;
  {
    at::NoGradGuard no_grad;
    auto offsets = at::arange(groups, outputs[1].options()).mul_(experts).view({groups, 1, 1});
    ids = (outputs[1] + offsets).reshape({-1}).contiguous();                           // (G·n·k)
  }
  const int64_t assignments = ids.numel(), total = groups * experts;
  auto count_tensor = at::zeros({total}, ids.options());
  auto order_tensor = at::empty({assignments}, ids.options());
  const int64_t* id = ids.data_ptr<int64_t>();
  int64_t* count = count_tensor.data_ptr<int64_t>();
  int64_t* sorted = order_tensor.data_ptr<int64_t>();
  for (int64_t a = 0; a < assignments; a++) count[id[a]]++;
  std::vector<int64_t> next(static_cast<size_t>(total), 0);
  for (int64_t e = 1; e < total; e++) next[e] = next[e - 1] + count[e - 1];
  for (int64_t a = 0; a < assignments; a++) sorted[next[id[a]]++] = a;

  *gates = moe::wrap(outputs[0]);
  *expert_ids = moe::wrap(ids);
  *counts = moe::wrap(count_tensor);
  *order = moe::wrap(order_tensor);
  MOE_CATCH
}

}  // extern "C"
