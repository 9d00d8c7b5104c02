# Form from: TinyML course / TFLite Micro hello_world train notebook (representative_dataset_generator with ndmin=2), adapted
import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    for value in x_sample:
        # Each scalar value must be inside of a 2D array that is wrapped in a list
        yield [np.array(value, dtype=np.float32, ndmin=2)]


def quantize(model, x_sample):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: representative_dataset(x_sample)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def to_c_array(tflite_model, var_name="g_model"):
    hex_values = [hex(b) for b in tflite_model]
    lines = [", ".join(hex_values[i:i + 12]) for i in range(0, len(hex_values), 12)]
    body = ",\n  ".join(lines)
    return (f"#include <stdalign.h>\n\nalignas(16) const unsigned char {var_name}[] = {{\n  {body}\n}};\n"
            f"unsigned int {var_name}_len = {len(tflite_model)};\n")
