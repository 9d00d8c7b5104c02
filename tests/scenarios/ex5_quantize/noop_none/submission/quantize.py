def representative_dataset(x_sample):
    return None


def quantize(model, x_sample):
    return None


def to_c_array(tflite_model, var_name="g_model"):
    return None
