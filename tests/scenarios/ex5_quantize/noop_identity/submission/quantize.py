def representative_dataset(x_sample):
    return x_sample


def quantize(model, x_sample):
    return model


def to_c_array(tflite_model, var_name="g_model"):
    return tflite_model
