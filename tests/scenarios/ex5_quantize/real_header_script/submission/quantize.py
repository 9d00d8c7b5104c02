# Form from: a model_to_header.py convert_to_c_array (const unsigned char ..._data[] = {...}) from a TFLite Micro tutorial, adapted
import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    data = np.asarray(x_sample, dtype=np.float32)
    data = data.reshape(data.shape[0], -1)

    def gen():
        for i in range(min(len(data), 300)):
            yield [data[i:i + 1]]
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
    guard = var_name.upper() + "_H"
    out = ["// Auto-generated file", f"#ifndef {guard}", f"#define {guard}", "#include <stdalign.h>", ""]
    out.append(f"alignas(16) const unsigned char {var_name}[] = {{")
    for i, byte in enumerate(tflite_model):
        out.append(f"    0x{byte:02x},")
    out.append("};")
    out.append(f"unsigned int {var_name}_len = {len(tflite_model)};")
    out.append(f"#endif  // {guard}")
    return "\n".join(out) + "\n"
