"""Which mistake names fit a mutant: what each operator in `operators` declares.

A killed mutant is *named* when a failed check names a mistake; the name *fits* when it
describes what the operator did. Each operator declares the names (and families of names)
that fit it, for all its changes or, keyed "operator/change" (`*` matches any text), for
some; the first key that matches applies.
"""

from __future__ import annotations

import fnmatch

SCALE = {"constant_factor", "sum_instead_of_mean", "divided_twice", "double_step", "half_gradient",
         "learning_rate_ignored", "hardcoded_learning_rate", "gradient_ignored", "root_mean_squared"}
SIGN = {"sign_flipped", "wrong_sign", "added_not_subtracted", "bias_subtracted", "labels_inverted"}
SWAP = {"swapped", "gradients_swapped", "neurons_swapped", "kernel_transposed", "weights_layout"}
SHAPE = {"collapsed_by_reduction", "no_reduction", "kept_dimension", "reduction_axis", "broadcast_n_by_n",
         "square_of_mean", "labels_shape", "wrong_sample_shape", "bare_array", "wrong_input_shape"}
DTYPE = {"rounded_to_integer", "mixed_dtypes", "integer_arithmetic", "losses_not_floats", "float64_samples",
         "labels_not_int_array", "booleans_not_labels", "float_io", "uint8_io"}
LEFT_OUT = {"input_ignored", "biases_forgotten", "weight_ignored", "weights_ignored", "not_squared",
            "gradient_ignored", "updated_one_parameter", "not_updated", "relu_never_applied", "no_sigmoid",
            "not_trained", "not_compiled", "train_not_called", "input_unchanged", "learning_rate_ignored",
            "nothing_yielded", "no_optimizations", "no_representative_dataset", "array_missing", "missing_len"}
NONE = {"returned_none", "train_returns_none", "nothing_yielded"}
THRESHOLD = {"wrong_threshold", "threshold_zero", "labels_inverted", "constant_labels", "relu_as_minimum",
             "relu_on_output", "relu_on_wrong_layers", "relu_never_applied", "relu_when_linear",
             "probabilities_not_labels", "labels_not_binary"}
C_ARRAY = {"array_declaration", "bytes_missing", "bytes_extra", "bytes_out_of_order", "wrong_bytes", "wrong_length",
           "array_missing", "missing_len", "missing_alignment", "c_does_not_compile"}
# Where ReLU goes: arithmetic on a layer's index moves it.
RELU_PLACE = {"relu_on_output", "relu_on_wrong_layers", "relu_never_applied", "relu_when_linear"}
# Names that say where the mistake is, not what it is: they fit any change to the arithmetic.
# (gcc rejecting the C source is what any slip in the code that writes it can lead to.)
LOCATING = {"one_update_wrong", "weight_misused", "weight_ignored", "c_does_not_compile"}
ARITHMETIC = SCALE | SIGN | SWAP | LEFT_OUT | LOCATING | RELU_PLACE | {"square_of_mean", "not_squared",
                                                                     "absolute_error"}

FITS: dict[str, set[str]] = {
    "arith/Add>Sub": SIGN | LEFT_OUT | LOCATING | RELU_PLACE | SHAPE,
    "arith/Sub>Add": SIGN | LOCATING | RELU_PLACE | SHAPE,
    "arith/Add=>Sub=": SIGN | LOCATING | RELU_PLACE | SHAPE,
    "arith/Sub=>Add=": SIGN | LOCATING | RELU_PLACE | SHAPE,
    "arith/*=>=": SCALE | SHAPE | LEFT_OUT | LOCATING | RELU_PLACE | {"wrong_epoch_count", "hardcoded_final_values"},
    "arith/Mult>Div": SCALE | LOCATING,
    "arith/Div>Mult": SCALE | LOCATING,
    "arith/Pow>Mult": SCALE | LOCATING | {"not_squared", "absolute_error"},
    "arith/*": ARITHMETIC | C_ARRAY,
    "operand": ARITHMETIC | SHAPE | C_ARRAY,
    "unary": SIGN | THRESHOLD,
    "compare": THRESHOLD | C_ARRAY | {"wrong_epoch_count", "train_not_called", "nothing_yielded", "wrong_sample_shape"},
    "boolean": THRESHOLD,
    "constant": SCALE | LEFT_OUT | LOCATING | THRESHOLD | C_ARRAY | {
        "wrong_epoch_count", "wrong_units", "neurons_swapped", "weights_layout", "kernel_transposed",
        "reduction_axis", "kept_dimension", "wrong_sample_shape", "too_little_training", "not_trained",
        "tape_used_twice"},
    "arg_order": SWAP | SIGN | SHAPE | LOCATING | DTYPE | C_ARRAY | {"input_ignored"},  # reshape(a, b) -> reshape(b, a)
    "keyword/drop_dtype": DTYPE,
    # without its learning rate an optimizer takes its default: a fixed rate, or too slow to train in time
    "keyword/drop_learning_rate": {"hardcoded_learning_rate", "too_little_training"},
    "keyword/drop_optimizer": {"too_little_training", "not_compiled"},
    "keyword/drop_activation": {"no_sigmoid", "wrong_activation"},
    "keyword/drop_axis": SHAPE,
    "keyword/drop_keepdims": SHAPE,
    "keyword/drop_loss": {"wrong_loss", "not_compiled"},
    "keyword/drop_epochs": {"too_little_training", "not_trained"},
    "keyword/drop_shape": {"wrong_input_shape"},
    "keyword/drop_input_shape": {"wrong_input_shape"},
    "keyword/drop_persistent": {"tape_used_twice"},
    "keyword/*": set(),
    "nesting/*": SHAPE | DTYPE | {"not_squared", "absolute_error", "root_mean_squared", "numpy_round_trip"},
    "reduction": SHAPE | SCALE,
    "statement/twice": SCALE | SHAPE | C_ARRAY | LOCATING | {"wrong_epoch_count", "wrong_layers"},
    "statement/drop": LEFT_OUT | SHAPE | DTYPE | NONE | C_ARRAY | LOCATING | {"wrong_epoch_count", "wrong_layers",
        "no_optimizations", "float_io", "uint8_io", "dynamic_range_only"},
    "return": NONE,
    "confused_name/reduce_mean>reduce_sum": SCALE,
    "confused_name/reduce_sum>reduce_mean": SCALE,
    "confused_name/mean>sum": SCALE,
    "confused_name/sum>mean": SCALE,
    "confused_name/square>abs": {"absolute_error", "not_squared"},
    "confused_name/assign_sub>assign_add": SIGN | LOCATING,
    "confused_name/assign_add>assign_sub": SIGN | LOCATING,
    "confused_name/float32>*": DTYPE,
    "confused_name/int8>*": DTYPE,
    "confused_name/maximum>minimum": THRESHOLD,
    "confused_name/matmul>multiply": SHAPE | SWAP | LOCATING,
    "confused_name/dot>multiply": SHAPE | SWAP | LOCATING,
    "confused_name/float>int": DTYPE | LEFT_OUT,  # a weight or bias below 1 truncated to 0 is left out
    "confused_name/TFLITE_BUILTINS_INT8>*": {"float_io", "dynamic_range_only"},
    "confused_string/sigmoid>*": {"wrong_activation", "no_sigmoid", "softmax_one_unit"} | THRESHOLD,
    "confused_string/relu>*": THRESHOLD,
    "confused_string/binary_crossentropy>*": {"wrong_loss", "mse_instead_of_bce"},
    "confused_string/float32>*": DTYPE,
    "dropped_call/drop_square": {"not_squared", "absolute_error"},
    "dropped_call/drop_abs": {"not_squared", "absolute_error"},
    "dropped_call/drop_sqrt": {"root_mean_squared"},
    "dropped_call/drop_reduce_mean": SHAPE,
    "dropped_call/drop_reduce_sum": SHAPE,
    "dropped_call/drop_mean": SHAPE,
    "dropped_call/drop_sum": SHAPE,
    "dropped_call/drop_*": SHAPE | DTYPE | THRESHOLD | LEFT_OUT | {"numpy_round_trip", "probabilities_not_labels"},
    "swapped_index": SWAP,
    "transposed": SWAP,
    "unwrapped_list": {"bare_array", "wrong_sample_shape", "setting_not_a_list"} | SHAPE,
    "dropped_word": C_ARRAY,
    "recomputed_return": {"loss_after_update"},
}


def fitting_names(operator: str, token: str) -> set[str]:
    """The mistake names that fit a mutant made by `operator` with change `token` (the first key that matches)."""
    for key, names in FITS.items():
        if key == operator or fnmatch.fnmatchcase(f"{operator}/{token}", key):
            return names
    return set()
