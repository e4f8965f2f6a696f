#include "harness/cost.h"

#include <filesystem>
#include <functional>
#include <map>

#include "backbones/encoder.h"
#include "backbones/factory.h"
#include "backbones/t5.h"
#include "common/error.h"
#include "common/files.h"
#include "methods/method.h"
#include "methods/prefix.h"
#include "methods/ptuning.h"
#include "methods/smop.h"

namespace ptbench {

FlopEstimate encoder_classification_flops(const BackboneGeometry& g, const EncoderCostInput& in) {
  if (g.kind != BackboneKind::encoder) fail("encoder_classification_flops needs an encoder geometry");
  const std::int64_t b = in.batch, h = g.hidden, i = g.intermediate;
  const std::int64_t queries = in.seq + in.input_prompt;  // positions that run through every layer
  const std::int64_t keys = queries + in.layer_prefix;
  const std::int64_t tokens = b * queries;
  // Per layer: Q, K, V and output projections (4 · 2·T·H·H), the FFN (2 · 2·T·H·I), and the two
  // attention products QKᵀ and PV (2 · 2·B·heads·Lq·Lk·hd = 2 · 2·B·Lq·Lk·H).
  const std::int64_t projections = 4 * 2 * tokens * h * h;
  const std::int64_t feed_forward = 2 * 2 * tokens * h * i;
  const std::int64_t attention = 2 * 2 * b * queries * keys * h;
  const std::int64_t per_layer = projections + feed_forward + attention;
  const std::int64_t pooler = 2 * b * h * h;
  const std::int64_t classifier = 2 * b * h * in.num_labels;
  FlopEstimate estimate;
  estimate.forward = g.layers * per_layer + pooler + classifier;
  if (in.backbone_trainable) {
    estimate.backward = 2 * estimate.forward;
  } else if (in.input_prompt == 0 && in.layer_prefix == 0) {
    estimate.backward = classifier;  // the head's weight gradient only
  } else {
    fail("encoder_classification_flops: the backward count with a frozen backbone and trainable inputs "
         "depends on the method; count it at run time");
  }
  return estimate;
}

void CostShape::validate() const {
  if (batch < 1) fail("cost: --batch must be at least 1, got ", batch);
  if (seq < 1) fail("cost: --seq must be at least 1, got ", seq);
  if (target < 0) fail("cost: --target must not be negative (0 = the input length)");
  if (num_labels < 1) fail("cost: --labels must be at least 1, got ", num_labels);
  if (head == HeadKind::multiple_choice && num_choices < 1) fail("cost: --choices must be at least 1");
}

nlohmann::json MemoryEstimate::to_json() const {
  return {{"parameters_bytes", parameters},
          {"gradients_bytes", gradients},
          {"optimizer_bytes", optimizer},
          {"activations_bytes", activations},
          {"total_bytes", total()},
          {"total_mb", static_cast<double>(total()) / (1024.0 * 1024.0)}};
}

double CostEstimate::forward_flops_per_example() const {
  return static_cast<double>(batch_flops.forward) / static_cast<double>(shape.batch);
}

double CostEstimate::training_flops_per_example() const {
  return static_cast<double>(batch_flops.forward + batch_flops.backward) / static_cast<double>(shape.batch);
}

nlohmann::json CostEstimate::to_json() const {
  const double trainable_percent =
      total_parameters > 0 ? 100.0 * static_cast<double>(trainable_parameters) / static_cast<double>(total_parameters) : 0.0;
  return {{"geometry", geometry.to_json()},
          {"method", method},
          {"method_options", method_options},
          {"shape",
           {{"batch", shape.batch},
            {"seq", shape.seq},
            {"target", shape.target},
            {"head", to_string(shape.head)},
            {"num_labels", shape.num_labels},
            {"num_choices", shape.head == HeadKind::multiple_choice ? shape.num_choices : 0}}},
          {"parameters",
           {{"backbone", backbone_parameters},
            {"method", method_parameters},
            {"head", head_parameters},
            {"total", total_parameters},
            {"trainable", trainable_parameters},
            {"trainable_percent", trainable_percent},
            {"stored_bytes", stored_bytes}}},
          {"flops",
           {{"forward_per_batch", batch_flops.forward},
            {"backward_per_batch", batch_flops.backward},
            {"forward_per_example", forward_flops_per_example()},
            {"training_per_example", training_flops_per_example()}}},
          {"memory", memory.to_json()},
          {"not_counted", not_counted}};
}

namespace {

constexpr std::int64_t kFloatBytes = 4;

// What a method adds to the backbone's computation, for the cost model: the method's own counted
// products and the shape of its injection (methods/*.h describe each module).
struct MethodShape {
  bool trains_backbone = false;
  std::int64_t input_prompt = 0;                 // trainable positions prepended to the encoder input
  std::int64_t decoder_prompt = 0;               // trainable positions prepended to the decoder input (T5)
  std::int64_t layer_prefix = 0;                 // key/value prefix length in the prefixed blocks
  std::vector<bool> prefixed;                    // per encoder layer: whether its self-attention gets the prefix
  std::vector<bool> prefixed_decoder;            // per decoder layer, self-attention (T5)
  std::vector<bool> prefixed_cross;              // per decoder layer, cross-attention (T5)
  FlopEstimate own;                              // the method's own products for one batch
  std::vector<std::string> not_counted;
};

using MethodShapeFunction =
    std::function<MethodShape(const nlohmann::json& options, const BackboneGeometry& g, std::int64_t rows)>;

// One entry per registered method (methods/registry.cpp). The formulas follow each method's
// inject(): which of its products go through ops::linear / ops::matmul, on how many rows, and
// which operands require grad (each such operand costs one more product in backward).
const std::map<std::string, MethodShapeFunction>& method_shapes() {
  static const std::map<std::string, MethodShapeFunction> shapes = {
      {"full",
       [](const nlohmann::json&, const BackboneGeometry&, std::int64_t) {
         MethodShape shape;
         shape.trains_backbone = true;
         return shape;
       }},
      {"prompt",
       [](const nlohmann::json& options, const BackboneGeometry&, std::int64_t) {
         // methods/prompt.cpp inject(): rows of the table, no products. With decoder_prompt
         // (PEFT seq2seq) a second P rows go before the decoder input.
         MethodShape shape;
         shape.input_prompt = options.at("length").get<std::int64_t>();
         if (options.value("decoder_prompt", false)) shape.decoder_prompt = shape.input_prompt;
         return shape;
       }},
      {"ptuning",
       [](const nlohmann::json& options, const BackboneGeometry& g, std::int64_t) {
         // methods/ptuning.cpp prompts(): the encoder runs once per forward on the P rows of its
         // embedding table (not per example). Weights and inputs both train: backward = 2 × forward.
         const PTuningOptions parsed = PTuningOptions::from_json(options);
         const std::int64_t p = parsed.length, hidden = g.hidden, h = parsed.hidden_size_for(hidden);
         MethodShape shape;
         shape.input_prompt = p;
         if (parsed.encoder == PromptEncoderKind::lstm) {
           // Linear(2h, 2h) → ReLU → Linear(2h, H) after the BiLSTM.
           shape.own.forward = 2 * p * (2 * h) * (2 * h) + 2 * p * (2 * h) * hidden;
           // The LSTM (torch::nn::LSTM) is not counted: per layer and direction 4 gates of
           // [in + h] · h, in = H for layer 0 and 2h for layer 1.
           const std::int64_t lstm = 2 * (2 * p * 4 * h * (hidden + h)) + 2 * (2 * p * 4 * h * (2 * h + h));
           shape.not_counted.push_back("P-Tuning v1 LSTM (torch::nn::LSTM), about " + std::to_string(lstm) +
                                       " FLOPs per forward");
         } else {
           shape.own.forward = 2 * p * hidden * h + 2 * p * h * h + 2 * p * h * hidden;
         }
         shape.own.backward = 2 * shape.own.forward;
         return shape;
       }},
      {"prefix",
       [](const nlohmann::json& options, const BackboneGeometry& g, std::int64_t) {
         // methods/prefix.cpp resolve_blocks(): `layers` chosen within each of `stacks` (default:
         // the encoder; on T5 encoder and decoder self-attention).
         const PrefixOptions parsed = PrefixOptions::from_json(options);
         const bool seq2seq = g.kind == BackboneKind::encoder_decoder;
         std::vector<std::string> stacks = parsed.stacks;
         if (stacks.empty()) stacks = seq2seq ? std::vector<std::string>{"encoder", "decoder"} : std::vector<std::string>{"encoder"};
         MethodShape shape;
         shape.layer_prefix = parsed.length;
         shape.prefixed.assign(static_cast<std::size_t>(g.layers), false);
         shape.prefixed_decoder.assign(static_cast<std::size_t>(g.decoder_layers), false);
         shape.prefixed_cross.assign(static_cast<std::size_t>(g.decoder_layers), false);
         std::int64_t selected = 0;
         for (const std::string& stack : stacks) {
           if (stack != "encoder" && !seq2seq) fail("cost: prefix stacks lists '", stack, "' but ", g.arch, " is an encoder");
           std::vector<bool>& marks = stack == "encoder" ? shape.prefixed : stack == "decoder" ? shape.prefixed_decoder : shape.prefixed_cross;
           for (std::int64_t layer : parsed.layers.resolve(stack == "encoder" ? g.layers : g.decoder_layers, "method (prefix)")) {
             marks[static_cast<std::size_t>(layer)] = true;
             ++selected;
           }
         }
         if (parsed.projection && selected > 0) {
           // Embedding(P, H) → Linear(H, h) → Tanh → Linear(h, 2·S·D), D = heads · head_dim, once
           // per forward.
           const std::int64_t p = parsed.length, h = parsed.projection_hidden_size;
           shape.own.forward = 2 * p * g.hidden * h + 2 * p * h * (2 * selected * g.heads * g.head_dim);
           shape.own.backward = 2 * shape.own.forward;
         }
         return shape;
       }},
      {"smop",
       [](const nlohmann::json& options, const BackboneGeometry& g, std::int64_t rows) {
         const SmopOptions parsed = SmopOptions::from_json(options);
         const std::int64_t k = parsed.num_prompts, l = parsed.prompt_length, hidden = g.hidden;
         MethodShape shape;
         shape.input_prompt = l;
         shape.not_counted.push_back("SMoP router input (masked mean of the word embeddings) and top-k selection");
         if (parsed.routing == SmopRouting::random) return shape;  // no router, no products
         // Router Linear(H → k, no bias) on the frozen mean embedding: only its weight's gradient.
         shape.own.forward = 2 * rows * hidden * k;
         shape.own.backward = 2 * rows * hidden * k;
         if (parsed.routing == SmopRouting::dense) {
           // probs [B, k] · table [k, l·H]; both operands train.
           shape.own.forward += 2 * rows * k * l * hidden;
           shape.own.backward += 2 * (2 * rows * k * l * hidden);
         }
         return shape;
       }},
  };
  return shapes;
}

BackboneGeometry encoder_geometry(const EncoderOptions& options) {
  BackboneGeometry g;
  g.arch = options.arch;
  g.kind = BackboneKind::encoder;
  g.layers = options.num_layers;
  g.hidden = options.hidden_size;
  g.heads = options.num_heads;
  g.head_dim = options.hidden_size / options.num_heads;
  g.intermediate = options.intermediate_size;
  g.vocab = options.vocab_size;
  g.max_positions = options.max_positions;
  return g;
}

// A counted product: forward flops plus one more product in backward per operand needing grad.
struct Counter {
  FlopEstimate total;
  void product(std::int64_t flops, bool first_needs_grad, bool second_needs_grad) {
    total.forward += flops;
    total.backward += flops * ((first_needs_grad ? 1 : 0) + (second_needs_grad ? 1 : 0));
  }
};

// Bytes autograd keeps for one encoder layer in training (fp32 activations, 1-byte dropout masks).
// The per-layer terms of Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
// Transformer Models", §4.1), written for an FFN width I instead of 4H and 4-byte tensors:
//   attention: QKV input 4TH, Q and K 8TH, softmax output 4·R·a·Lq·Lk, its dropout mask R·a·Lq·Lk,
//              dropout output 4·R·a·Lq·Lk, V 4TH, output-projection input 4TH, dropout mask TH;
//   FFN: input 4TH, activation input 4TI, second linear input 4TI, dropout mask TH;
//   two LayerNorm inputs 8TH
// = 34·T·H + 8·T·I + 9·R·a·Lq·Lk bytes, T = R·Lq tokens, R rows, a heads.
std::int64_t encoder_layer_activation_bytes(const BackboneGeometry& g, std::int64_t rows, std::int64_t queries,
                                            std::int64_t keys) {
  const std::int64_t tokens = rows * queries;
  return 34 * tokens * g.hidden + 8 * tokens * g.intermediate + 9 * rows * g.heads * queries * keys;
}

std::int64_t encoder_backbone_parameters(const EncoderOptions& o) {
  const std::int64_t h = o.hidden_size, i = o.intermediate_size;
  const std::int64_t embeddings = (o.vocab_size + o.max_positions + o.type_vocab_size) * h + 2 * h;
  const std::int64_t per_layer = 4 * h * h + 2 * h * i + 9 * h + i;  // Q, K, V, O + 2 LayerNorms + FFN
  const std::int64_t pooler = h * h + h;
  return embeddings + o.num_layers * per_layer + pooler;
}

CostEstimate encoder_cost(const EncoderOptions& options, const std::string& method, const nlohmann::json& method_options,
                          const CostShape& shape) {
  CostEstimate cost;
  cost.geometry = encoder_geometry(options);
  const BackboneGeometry& g = cost.geometry;
  cost.method = method;
  cost.shape = shape;
  if (shape.head == HeadKind::seq2seq) fail("cost: the seq2seq head needs an encoder-decoder geometry (t5)");

  const auto found = method_shapes().find(method);
  if (found == method_shapes().end()) fail("cost: no cost formula for method '", method, "' (harness/cost.cpp method_shapes)");
  const Method made = make_method(method, method_options);  // validates the options, fills defaults
  cost.method_options = made->options_json();
  const std::int64_t rows = shape.head == HeadKind::multiple_choice ? shape.batch * shape.num_choices : shape.batch;
  MethodShape injected = found->second(cost.method_options, g, rows);
  if (injected.prefixed.empty()) injected.prefixed.assign(static_cast<std::size_t>(g.layers), false);
  if (injected.decoder_prompt > 0) fail("cost: decoder_prompt needs an encoder-decoder geometry (t5)");

  // Parameters.
  cost.backbone_parameters = encoder_backbone_parameters(options);
  cost.method_parameters = made->closed_form_parameters(g);
  const std::int64_t h = g.hidden, labels = shape.num_labels;
  HeadPooling pooling = shape.pooling;
  if (pooling == HeadPooling::automatic) pooling = g.arch == "roberta" ? HeadPooling::first_token_mlp : HeadPooling::pooler;
  switch (shape.head) {
    case HeadKind::sequence_classification:
      cost.head_parameters = (pooling == HeadPooling::first_token_mlp ? h * h + h : 0) + h * labels + labels;
      break;
    case HeadKind::multiple_choice: cost.head_parameters = h + 1; break;
    case HeadKind::token_classification: cost.head_parameters = h * labels + labels; break;
    case HeadKind::span_extraction: cost.head_parameters = 2 * h + 2; break;
    case HeadKind::seq2seq: break;
  }
  cost.total_parameters = cost.backbone_parameters + cost.method_parameters + cost.head_parameters;
  cost.trainable_parameters =
      cost.method_parameters + cost.head_parameters + (injected.trains_backbone ? cost.backbone_parameters : 0);
  cost.stored_bytes = cost.trainable_parameters * kFloatBytes;

  // FLOPs: backbones/encoder.cpp forward, product by product, with autograd's requires_grad
  // flags tracked the way they arise: hidden states need grad once anything trainable fed them.
  Counter counter;
  counter.product(injected.own.forward, false, false);
  counter.total.backward += injected.own.backward;
  const bool weights = injected.trains_backbone;
  const std::int64_t queries = shape.seq + injected.input_prompt;
  const std::int64_t tokens = rows * queries;
  bool hidden = weights || injected.input_prompt > 0;  // the embedding output
  std::int64_t activation_bytes = hidden ? 5 * tokens * h : 0;  // embedding LayerNorm input + dropout mask
  for (std::int64_t layer = 0; layer < g.layers; ++layer) {
    const bool prefixed = injected.prefixed[static_cast<std::size_t>(layer)];
    const std::int64_t keys = queries + (prefixed ? injected.layer_prefix : 0);
    const std::int64_t projection = 2 * tokens * h * h;
    counter.product(projection, hidden, weights);  // query
    counter.product(projection, hidden, weights);  // key
    counter.product(projection, hidden, weights);  // value
    const bool q = hidden || weights;
    const bool kv = hidden || weights || prefixed;  // cat(prefix, key) needs grad: the prefix trains
    const std::int64_t attention = 2 * rows * queries * keys * h;  // heads · Lq · Lk · head_dim
    counter.product(attention, q, kv);                  // QKᵀ
    const bool probs = q || kv;
    counter.product(attention, probs, kv);              // probs · V
    const bool context = probs || kv;
    counter.product(projection, context, weights);      // attention output
    const bool attended = context || weights || hidden;
    counter.product(2 * tokens * h * g.intermediate, attended, weights);  // intermediate
    counter.product(2 * tokens * g.intermediate * h, attended || weights, weights);  // output
    hidden = attended || weights;
    if (hidden) activation_bytes += encoder_layer_activation_bytes(g, rows, queries, keys);
  }
  // The pooler runs on every forward (BertPooler on position 0), whatever the head reads.
  counter.product(2 * rows * h * h, hidden, weights);
  const bool pooled = hidden || weights;
  switch (shape.head) {
    case HeadKind::sequence_classification:
      if (pooling == HeadPooling::first_token_mlp) {
        counter.product(2 * rows * h * h, hidden, true);    // classifier.dense
        counter.product(2 * rows * h * labels, true, true);  // classifier.out_proj
      } else {
        counter.product(2 * rows * h * labels, pooled, true);
      }
      break;
    case HeadKind::multiple_choice: counter.product(2 * rows * h, pooled, true); break;
    case HeadKind::token_classification: counter.product(2 * rows * shape.seq * h * labels, hidden, true); break;
    case HeadKind::span_extraction: counter.product(2 * rows * shape.seq * h * 2, hidden, true); break;
    case HeadKind::seq2seq: break;
  }
  cost.batch_flops = counter.total;

  cost.memory.parameters = cost.total_parameters * kFloatBytes;
  cost.memory.gradients = cost.trainable_parameters * kFloatBytes;
  cost.memory.optimizer = 2 * cost.trainable_parameters * kFloatBytes;
  cost.memory.activations = activation_bytes;

  cost.not_counted = {"embedding lookups, LayerNorm, softmax, activation functions, dropout and the loss (not matrix products)"};
  for (const std::string& note : injected.not_counted) cost.not_counted.push_back(note);
  return cost;
}

BackboneGeometry t5_geometry(const T5Options& options) {
  BackboneGeometry g;
  g.arch = "t5";
  g.kind = BackboneKind::encoder_decoder;
  g.layers = options.num_layers;
  g.decoder_layers = options.num_decoder_layers;
  g.hidden = options.d_model;
  g.heads = options.num_heads;
  g.head_dim = options.d_kv;
  g.intermediate = options.d_ff;
  g.vocab = options.vocab_size;
  g.max_positions = 0;
  return g;
}

// T5 parameters (backbones/t5.h, HF names): shared embedding; per block self-attention q, k, v, o
// without bias (4·d·inner) and its RMS norm (d); decoder blocks also cross-attention (4·d·inner + d);
// FFN wi (or wi_0 + wi_1) and wo, no bias, and its norm; the relative-position bias table in the
// first block of each stack; a final norm per stack; lm_head when not tied (v1.1).
std::int64_t t5_backbone_parameters(const T5Options& o) {
  const std::int64_t d = o.d_model, inner = o.num_heads * o.d_kv, ff = o.d_ff;
  const std::int64_t attention = 4 * d * inner + d;
  const std::int64_t feed_forward = (o.gated() ? 3 : 2) * d * ff + d;
  const std::int64_t bias_table = o.relative_attention_num_buckets * o.num_heads;
  const std::int64_t encoder = o.num_layers * (attention + feed_forward) + (o.num_layers > 0 ? bias_table : 0) + d;
  const std::int64_t decoder =
      o.num_decoder_layers * (2 * attention + feed_forward) + (o.num_decoder_layers > 0 ? bias_table : 0) + d;
  return o.vocab_size * d + encoder + decoder + (o.tie_word_embeddings ? 0 : o.vocab_size * d);
}

// backbones/t5.cpp encode / decode / lm_logits, product by product, with requires_grad tracked
// as in encoder_cost. rows R = batch; encoder length Le = seq + input prompt; decoder length
// Td = target + decoder prompt; the LM head runs on the target positions only.
CostEstimate t5_cost(const T5Options& options, const std::string& method, const nlohmann::json& method_options,
                     const CostShape& shape) {
  CostEstimate cost;
  cost.geometry = t5_geometry(options);
  const BackboneGeometry& g = cost.geometry;
  cost.method = method;
  cost.shape = shape;
  if (shape.head != HeadKind::seq2seq) fail("cost: t5 is text-to-text: use --head seq2seq");
  const auto found = method_shapes().find(method);
  if (found == method_shapes().end()) fail("cost: no cost formula for method '", method, "' (harness/cost.cpp method_shapes)");
  const Method made = make_method(method, method_options);
  cost.method_options = made->options_json();
  const std::int64_t rows = shape.batch;
  MethodShape injected = found->second(cost.method_options, g, rows);
  injected.prefixed.resize(static_cast<std::size_t>(g.layers), false);
  injected.prefixed_decoder.resize(static_cast<std::size_t>(g.decoder_layers), false);
  injected.prefixed_cross.resize(static_cast<std::size_t>(g.decoder_layers), false);

  cost.backbone_parameters = t5_backbone_parameters(options);
  cost.method_parameters = made->closed_form_parameters(g);
  cost.head_parameters = 0;  // the LM head belongs to the backbone
  cost.total_parameters = cost.backbone_parameters + cost.method_parameters;
  cost.trainable_parameters = cost.method_parameters + (injected.trains_backbone ? cost.backbone_parameters : 0);
  cost.stored_bytes = cost.trainable_parameters * kFloatBytes;

  const std::int64_t d = options.d_model, inner = options.num_heads * options.d_kv, ff = options.d_ff;
  const bool weights = injected.trains_backbone;
  Counter counter;
  counter.product(injected.own.forward, false, false);
  counter.total.backward += injected.own.backward;
  std::int64_t activation_bytes = 0;

  // One attention: queries from `query_grad` states of `queries` positions, keys/values from
  // `source_grad` states of `sources` positions (+ a prefix). Returns whether its output needs grad.
  auto attention = [&](std::int64_t queries, bool query_grad, std::int64_t sources, bool source_grad, bool prefixed) {
    const std::int64_t keys = sources + (prefixed ? injected.layer_prefix : 0);
    counter.product(2 * rows * queries * d * inner, query_grad, weights);  // q
    counter.product(2 * rows * sources * d * inner, source_grad, weights);  // k
    counter.product(2 * rows * sources * d * inner, source_grad, weights);  // v
    const bool q = query_grad || weights;
    const bool kv = source_grad || weights || prefixed;
    counter.product(2 * rows * queries * keys * inner, q, kv);  // QKᵀ
    const bool probs = q || kv;
    counter.product(2 * rows * queries * keys * inner, probs, kv);  // probs · V
    const bool context = probs || kv;
    counter.product(2 * rows * queries * inner * d, context, weights);  // o
    if (context || weights) activation_bytes += 21 * rows * queries * d + 9 * rows * options.num_heads * queries * keys;
    return context || weights;
  };
  auto feed_forward = [&](std::int64_t positions, bool input_grad) {
    const bool normed = input_grad || weights;  // RMS norm weight trains with the backbone
    for (int i = 0; i < (options.gated() ? 2 : 1); ++i) counter.product(2 * rows * positions * d * ff, normed, weights);
    const bool inner_grad = normed || weights;
    counter.product(2 * rows * positions * ff * d, inner_grad, weights);
    if (inner_grad || weights) activation_bytes += 13 * rows * positions * d + (options.gated() ? 12 : 8) * rows * positions * ff;
    return inner_grad || weights;
  };

  const std::int64_t encoder_length = shape.seq + injected.input_prompt;
  bool hidden = weights || injected.input_prompt > 0;
  for (std::int64_t layer = 0; layer < g.layers; ++layer) {
    const bool normed = hidden || weights;
    const bool attended = attention(encoder_length, normed, encoder_length, normed, injected.prefixed[static_cast<std::size_t>(layer)]);
    const bool x = hidden || attended;
    const bool fed = feed_forward(encoder_length, x);  // evaluated apart: || would skip counting it
    hidden = x || fed;
  }
  const bool encoder_states = hidden || weights;  // final norm

  const std::int64_t target = shape.target > 0 ? shape.target : shape.seq;
  const std::int64_t decoder_length = target + injected.decoder_prompt;
  hidden = weights || injected.decoder_prompt > 0;
  for (std::int64_t layer = 0; layer < g.decoder_layers; ++layer) {
    const auto i = static_cast<std::size_t>(layer);
    const bool normed = hidden || weights;
    const bool self_attended = attention(decoder_length, normed, decoder_length, normed, injected.prefixed_decoder[i]);
    const bool x = hidden || self_attended;
    const bool cross_attended = attention(decoder_length, x || weights, encoder_length, encoder_states, injected.prefixed_cross[i]);
    const bool y = x || cross_attended;
    const bool fed = feed_forward(decoder_length, y);
    hidden = y || fed;
  }
  const bool decoder_states = hidden || weights;
  // LM head on the target positions (v1.0: the tied shared embedding; v1.1: lm_head).
  counter.product(2 * rows * target * d * options.vocab_size, decoder_states, weights);
  activation_bytes += 8 * rows * target * options.vocab_size;  // logits and their log-softmax for the loss
  cost.batch_flops = counter.total;

  cost.memory.parameters = cost.total_parameters * kFloatBytes;
  cost.memory.gradients = cost.trainable_parameters * kFloatBytes;
  cost.memory.optimizer = 2 * cost.trainable_parameters * kFloatBytes;
  cost.memory.activations = activation_bytes;
  cost.not_counted = {"embedding lookups, RMS norms, softmax, activation functions, dropout, the relative-position "
                      "bias and the loss (not matrix products)"};
  for (const std::string& note : injected.not_counted) cost.not_counted.push_back(note);
  return cost;
}

}  // namespace

CostEstimate estimate_cost(const nlohmann::json& hf_config, const std::string& method, const nlohmann::json& method_options,
                           const CostShape& shape) {
  shape.validate();
  const std::string type = hf_config.value("model_type", std::string());
  if (type == "bert" || type == "roberta") {
    return encoder_cost(EncoderOptions::from_hf_config(hf_config), method, method_options, shape);
  }
  if (type == "t5") return t5_cost(T5Options::from_hf_config(hf_config), method, method_options, shape);
  fail("cost: no cost formula for model_type '", type, "' (supported: bert, roberta, t5)");
}

nlohmann::json cost_model_config(const std::string& geometry_or_path) {
  const std::filesystem::path path(geometry_or_path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return read_json_file(path / "config.json");
  if (std::filesystem::is_regular_file(path, ec)) return read_json_file(path);
  return geometry_config(geometry_or_path);
}

}  // namespace ptbench
