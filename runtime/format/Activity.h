//===- Activity.h - the counters a CPU artifact's code keeps ----*- C++ -*-===//
//
// The code of a CPU artifact counts what each forward call reads (the pass
// moe-count-activity emits the counting): a public global array of int64_t,
// kActivityRows rows of kActivityColumns, where the rows are the decoder
// layers and a last row for what no layer owns (embedding, final norm,
// head). The counts add up across calls until the caller zeroes them. This
// header is the one statement of that layout, for the pass and the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_FORMAT_ACTIVITY_H
#define MOEC_RUNTIME_FORMAT_ACTIVITY_H

namespace moec {

/// The symbols: the counters, and their number of rows (a constant int64_t).
inline constexpr const char *kActivitySymbol = "moec_activity";
inline constexpr const char *kActivityRowsSymbol = "moec_activity_rows";

/// The columns of a row.
enum ActivityColumn : int {
  /// Bytes of weights read, by part of the model: only the routed experts',
  /// and in a fused dReLU block only the gate rows computed (those of
  /// predicted neurons with a predictor), the up rows of positive gates and
  /// the down rows of active neurons.
  kAttentionBytes, ///< q, k, v and o projections
  kRouterBytes,
  kPredictorBytes, ///< activation predictors (fc1, fc2)
  kGateBytes,
  kUpBytes,
  kDownBytes,
  kHeadBytes,  ///< LM head or classification head
  kOtherBytes, ///< embedding rows, norms
  /// Bytes of the KV cache read by attention.
  kCacheBytes,
  /// Neurons of fused dReLU products (inter per expert and token).
  kNeurons,
  /// Of those, the neurons whose gate was computed: the predicted ones in a
  /// block with a predictor, all of them otherwise.
  kComputedNeurons,
  /// Of those, the neurons whose gate was positive (their up row was read).
  kGatePositive,
  /// Of those, the neurons with a non-zero activation (their down row was
  /// read).
  kActiveNeurons,
  /// In a diagnostic build (moec-compile --predictor-stats), the neurons of
  /// predicted blocks that the exact block has active; 0 otherwise. With
  /// kActiveNeurons (predicted and active) and kComputedNeurons (predicted),
  /// the predictor's recall and precision.
  kExactActiveNeurons,
  /// Multiply-adds of the products: per token, one per weight element of a
  /// matrix the token was multiplied with (only the routed experts', and in
  /// a fused dReLU block only the rows read), and attention's q.k and p.v
  /// over the rows each query's kernel covered.
  kMultiplyAdds,
  kActivityColumns
};

/// The weight byte columns: [kFirstWeightBytes, kLastWeightBytes].
inline constexpr ActivityColumn kFirstWeightBytes = kAttentionBytes;
inline constexpr ActivityColumn kLastWeightBytes = kOtherBytes;

/// The parts' names, as reports print them, in column order.
inline constexpr const char *kWeightPartNames[] = {
    "attention", "router", "predictor", "gate", "up", "down", "head", "other"};

} // namespace moec

#endif // MOEC_RUNTIME_FORMAT_ACTIVITY_H
