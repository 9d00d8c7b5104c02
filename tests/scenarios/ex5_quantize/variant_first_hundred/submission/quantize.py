import numpy as np
import tensorflow as tf

N_CALIBRATION = 100


def representative_dataset(x_sample):
    def gen():
        for x in x_sample[:N_CALIBRATION]:
            yield [tf.expand_dims(tf.cast(x, tf.float32), 0)]
    return gen


def quantize(model, x_sample):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(x_sample)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def to_c_array(tflite_model, var_name="g_model"):
    lines = ["#include <stdalign.h>", "", f"alignas(16) const unsigned char {var_name}[] = {{"]
    for i in range(0, len(tflite_model), 12):
        lines.append("  " + ", ".join("0x%02x" % b for b in tflite_model[i:i + 12]) + ",")
    lines += ["};", f"unsigned int {var_name}_len = {len(tflite_model)};", ""]
    return "\n".join(lines)
