#include "backbones/pretrain/loss.h"

#include <torch/torch.h>

namespace ptbench::pretrain {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class CrossEntropySum : public torch::autograd::Function<CrossEntropySum> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& logits, const torch::Tensor& labels,
                               std::int64_t ignore_index) {
    const torch::Tensor log_probs = torch::log_softmax(logits, -1);
    const torch::Tensor valid = labels.ne(ignore_index);
    const torch::Tensor safe_labels = labels.masked_fill(valid.logical_not(), 0).unsqueeze(1);
    const torch::Tensor picked = log_probs.gather(1, safe_labels).squeeze(1);
    context->save_for_backward({log_probs, safe_labels, valid});
    return -(picked * valid.to(picked.dtype())).sum();
  }

  static tensor_list backward(AutogradContext* context, tensor_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const torch::Tensor& log_probs = saved[0];
    const torch::Tensor& safe_labels = saved[1];
    const torch::Tensor& valid = saved[2];
    // d/dz Σ −log softmax(z)[y] = softmax(z) − onehot(y), per valid row, times the incoming grad.
    torch::Tensor grad = log_probs.exp();
    grad.scatter_add_(1, safe_labels, torch::full_like(safe_labels, -1, grad.options()));
    grad.mul_((grad_outputs[0] * valid.to(grad.dtype())).unsqueeze(1));
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& labels, std::int64_t ignore_index) {
  TORCH_CHECK(logits.dim() == 2 && labels.dim() == 1 && logits.size(0) == labels.size(0),
              "cross_entropy_sum: logits [N, V] and labels [N] expected, got ", logits.sizes(), " and ", labels.sizes());
  return CrossEntropySum::apply(logits, labels, ignore_index);
}

}  // namespace ptbench::pretrain
