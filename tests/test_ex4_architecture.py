"""Exercise 4 judges a model by what it computes: one sigmoid neuron, however the built-in layers draw it."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.ex4_perceptron import _judge_architecture
from grader.checks.support.keras_file import Layer, ModelFacts, UnsafeModel, check_known, read_config
from grader.judge.feedback import Mistake
from tests.test_ex45_helpers import _keras_zip, _layer, _sequential

FLAT = (None, 3)


@pytest.mark.parametrize("layers", [
    [_layer("Dense", units=1), _layer("Activation", activation="sigmoid")],
    [_layer("Flatten"), _layer("Reshape", target_shape=[3]), _layer("Identity"), _layer("Dense", units=1,
                                                                                         activation="sigmoid")],
    [_layer("Dropout", rate=0.1), _layer("Dense", units=1, activation="sigmoid")],
])
def test_the_built_in_layers_of_one_neuron_load(layers):
    check_known(read_config(_keras_zip(_sequential(_layer("InputLayer", batch_shape=[None, 3]), *layers))))


def test_a_refused_built_in_layer_is_called_built_in_not_custom():
    with pytest.raises(UnsafeModel) as e:
        check_known(read_config(_keras_zip(_sequential(_layer("Conv1D", filters=1)))))
    assert "built-in Keras layer Conv1D" in str(e.value) and "custom" not in str(e.value)


def test_a_class_of_the_students_own_is_refused_as_code():
    custom = {"module": "perceptron", "class_name": "Squash", "config": {}, "registered_name": "Custom>Squash"}
    with pytest.raises(UnsafeModel, match="'Squash', a class of your own"):
        check_known(read_config(_keras_zip(_sequential(_layer("Dense", units=1), custom))))
    registered = {**_layer("Dense", units=1), "registered_name": "Custom>Dense"}
    with pytest.raises(UnsafeModel, match="custom class 'Custom>Dense', defined in your own code"):
        check_known(read_config(_keras_zip(_sequential(registered))))


def _facts(*layers: Layer, output=(None, 1)) -> ModelFacts:
    return ModelFacts(layers=list(layers), input_shape=FLAT, output_shape=output, weights=[], outputs=None)


def _dense(activation="linear", units=1, into=FLAT):
    return Layer("Dense", units, activation, into, (None, units))


def _act(activation, shape=(None, 1)):
    return Layer("Activation", None, activation, shape, shape)


@pytest.mark.parametrize("facts", [
    _facts(_dense(), _act("sigmoid")),
    _facts(Layer("Flatten", None, None, FLAT, FLAT), _dense("sigmoid")),
    _facts(_dense(), _act("linear"), _act("sigmoid")),
])
def test_one_sigmoid_neuron_passes(facts):
    _judge_architecture(facts, 3)


@pytest.mark.parametrize("facts, mistake, words", [
    (_facts(_act("sigmoid", FLAT), _dense()), "wrong_layers", "before the Dense layer"),
    (_facts(_dense("sigmoid"), _act("sigmoid")), "wrong_activation", "'sigmoid' then 'sigmoid'"),
    (_facts(_dense(), _act("relu")), "wrong_activation", "'relu'"),
    (_facts(_dense(), _act("softmax")), "softmax_one_unit", "softmax"),
    (_facts(_dense(), _act("linear")), "no_sigmoid", "no activation"),
    (_facts(Layer("Reshape", None, None, FLAT, (None, 3, 1)), _dense("sigmoid", into=(None, 3, 1)),
            output=(None, 3, 1)), "wrong_layers", "(None, 3, 1)"),
    (_facts(_dense(units=1), _dense("sigmoid")), "wrong_layers", "exactly one Dense layer"),
])
def test_what_is_not_one_sigmoid_neuron_is_named(facts, mistake, words):
    with pytest.raises(Mistake) as e:
        _judge_architecture(facts, 3)
    assert e.value.name == mistake and words in e.value.message
