"""The sine model of the TensorFlow Lite Micro "hello world" example, ready trained.

    from sine_model import load_sine_model
    model = load_sine_model()          # a float Keras model: x in [0, 2π] -> sin(x)

Its weights are in `sine_model.npz` next to this file (plain arrays, no pickle).
`python sine_model.py` retrains it and rewrites that file; you do not need to.
"""

from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("sine_model.npz")
LAYERS = ("dense_1", "dense_2", "dense_3")


def build_sine_model():
    """Dense(16, relu) -> Dense(16, relu) -> Dense(1) on one input, untrained."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(1,)),
            keras.layers.Dense(16, activation="relu", name="dense_1"),
            keras.layers.Dense(16, activation="relu", name="dense_2"),
            keras.layers.Dense(1, name="dense_3"),
        ],
        name="sine",
    )


def load_sine_model():
    """The trained float model."""
    model = build_sine_model()
    with np.load(WEIGHTS, allow_pickle=False) as saved:
        model.set_weights([saved[f"{layer}_{part}"] for layer in LAYERS for part in ("kernel", "bias")])
    return model


def train_sine_model(seed=1337):
    """How `sine_model.npz` was made: 1000 noisy samples of sin(x), Adam, 300 epochs."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2 * np.pi, 1000).astype(np.float32)
    y = (np.sin(x) + 0.1 * rng.standard_normal(1000)).astype(np.float32)
    model = build_sine_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=300, batch_size=64, verbose=0)
    return model


if __name__ == "__main__":
    trained = train_sine_model()
    weights = trained.get_weights()
    names = [f"{layer}_{part}" for layer in LAYERS for part in ("kernel", "bias")]
    np.savez(WEIGHTS, **dict(zip(names, weights)))
    xs = np.linspace(0, 2 * np.pi, 200, dtype=np.float32)
    error = np.abs(trained.predict(xs, verbose=0)[:, 0] - np.sin(xs)).max()
    print(f"wrote {WEIGHTS.name}; largest error against sin(x) on [0, 2π]: {error:.3f}")
