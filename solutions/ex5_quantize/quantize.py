"""Exercise 5: quantize a Keras model for a microcontroller."""

import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    """Returns a zero-argument generator function yielding one [float32 array of shape (1, n_features)] per sample.

    (The other accepted form yields the items here; quantize then passes a lambda.)
    """
    samples = np.asarray(x_sample, dtype=np.float32).reshape(len(x_sample), -1)

    def generate():
        for row in samples:
            yield [row.reshape(1, -1)]

    return generate


def quantize(model, x_sample):
    """The full-integer int8 TFLite flatbuffer of `model`, calibrated on `x_sample`."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(x_sample)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def to_c_array(tflite_model, var_name="g_model"):
    """C source holding the model's bytes, as `xxd -i` would write it, 16-byte aligned."""
    lines = [f"alignas(16) const unsigned char {var_name}[] = {{"]
    for start in range(0, len(tflite_model), 12):
        chunk = tflite_model[start : start + 12]
        lines.append("  " + ", ".join(f"0x{byte:02x}" for byte in chunk) + ",")
    lines.append("};")
    lines.append(f"unsigned int {var_name}_len = {len(tflite_model)};")
    return "#include <stdalign.h>\n\n" + "\n".join(lines) + "\n"
