"""Exercise 5 · Quantize for a microcontroller.

A microcontroller has a few hundred kilobytes of memory and often no floating-point
unit. To run there, a model is converted to TensorFlow Lite with *full-integer*
quantization (int8 weights, activations, input and output), then compiled into the
firmware as a C array. Write the three steps.

Try it on the course's sine model:

    from sine_model import load_sine_model
    model = load_sine_model()
    x_sample = np.random.uniform(0, 2 * np.pi, size=(300, 1))

Run `grade exercise 5` to check your work, and `grade hint 5` if you are stuck.
"""

import numpy as np
import tensorflow as tf


def representative_dataset(x_sample):
    """The samples for `TFLiteConverter.representative_dataset`, in either of two forms.

    `x_sample` is an array of shape (n, n_features) (possibly float64). Either yield
    the items here (a generator function; `quantize` then passes
    `lambda: representative_dataset(x_sample)` to the converter), or return an inner
    generator function (`quantize` passes `representative_dataset(x_sample)`). The
    items: for each sample, a list holding one float32 array of shape (1, n_features).
    """
    # TODO: loop over the samples and yield [sample] (here, or in an inner function you return).
    raise NotImplementedError("Exercise 5: write representative_dataset()")


def quantize(model, x_sample):
    """Return the full-integer int8 TFLite flatbuffer (bytes) of the Keras `model`.

    Calibrate on `x_sample`. The input and output tensors must be int8, the weights
    and activations int8, the biases int32.
    """
    # TODO: TFLiteConverter.from_keras_model(model), configure it, return convert().
    raise NotImplementedError("Exercise 5: write quantize()")


def to_c_array(tflite_model, var_name="g_model"):
    """Return C source holding the model's bytes, as `xxd -i` writes it.

    Define `const unsigned char <var_name>[]`, 16-byte aligned, with every byte of
    `tflite_model`, and `unsigned int <var_name>_len`, the number of bytes. The
    text must compile as C.
    """
    # TODO: format every byte as 0x.., then the length.
    raise NotImplementedError("Exercise 5: write to_c_array()")
