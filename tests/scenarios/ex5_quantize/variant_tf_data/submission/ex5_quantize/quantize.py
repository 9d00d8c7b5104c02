import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(x_sample, np.float32))

    def gen():
        for sample in dataset.batch(1).take(300):
            yield [sample]

    return gen


def quantize(model, x_sample):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(x_sample)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tflite_model = converter.convert()
    return tflite_model


def to_c_array(tflite_model, var_name="g_model"):
    hex_bytes = [f"0X{b:02X}" for b in tflite_model]
    rows = [", ".join(hex_bytes[i:i + 16]) for i in range(0, len(hex_bytes), 16)]
    body = ",\n    ".join(rows)
    return (
        f"const unsigned char {var_name}[] __attribute__((aligned(16))) = {{\n    {body}\n}};\n"
        f"const unsigned int {var_name}_len = {len(tflite_model)};\n"
    )
