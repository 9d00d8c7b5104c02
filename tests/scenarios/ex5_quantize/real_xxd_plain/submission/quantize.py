# Form from: TFLite Micro hello_world (xxd -i sine_model.tflite > sine_model_data.cc), reproduced in Python
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
    lines = []
    for i in range(0, len(tflite_model), 12):
        lines.append("  " + ", ".join("0x%02x" % b for b in tflite_model[i:i + 12]))
    return ("unsigned char %s[] = {\n%s\n};\nunsigned int %s_len = %d;\n"
            % (var_name, ",\n".join(lines), var_name, len(tflite_model)))
