"""My quantization exercise."""
import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    x32 = np.array(x_sample, dtype=np.float32)

    def representative_data_gen():
        for i in range(len(x32)):
            yield [x32[i:i + 1]]

    return representative_data_gen


def quantize(model, x_sample):
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = {tf.lite.Optimize.DEFAULT}
    conv.representative_dataset = representative_dataset(x_sample)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return bytes(conv.convert())


def to_c_array(tflite_model, var_name="g_model"):
    out = "/* generated: %d bytes */\n" % len(tflite_model)
    out += "_Alignas(16) const unsigned char " + var_name + "[] = {"
    out += ",".join(str(b) for b in tflite_model)
    out += "};\n"
    out += "unsigned int " + var_name + "_len = " + str(len(tflite_model)) + ";\n"
    return out
