"""KerasTuner search spaces for SAB models.

`SABHyperModel` builds a compiled sequence model around a `keras_sab.SAB`
layer and searches its `units`, `k_top`, `k_att`, `k_trunc`, the softmax
temperature and the learning rate. Any KerasTuner tuner (`RandomSearch`, `Hyperband`,
`BayesianOptimization`) can drive it.

This module needs the `tuning` extra (KerasTuner and TensorBoard, which
KerasTuner uses with the TensorFlow backend): `pip install keras-sab[tuning]`.
`import keras_sab` does not import it.
"""

import importlib.util
import numbers

import keras

from keras_sab import defaults
from keras_sab import validation
from keras_sab.sab_layer import SAB
from keras_sab.validation import is_integer

_INSTALL_HINT = (
    "`keras_sab.tuning` requires KerasTuner and TensorBoard. Install them "
    "with `pip install keras-sab[tuning]`."
)

try:
    import keras_tuner
except ImportError as error:
    raise ImportError(_INSTALL_HINT) from error
if importlib.util.find_spec("tensorboard") is None:
    raise ImportError(_INSTALL_HINT)

SAB_LAYER_NAME = "sab"
_RESERVED_LAYER_ARGUMENTS = (
    "units",
    "k_top",
    "k_att",
    "k_trunc",
    "attention",
    "temperature",
    "attention_units",
    "dropout",
    "return_sequences",
    "return_state",
    "return_attention",
    "name",
)


def _is_positive_float(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and value > 0
    )


def _int_range(name, value, minimum):
    """Checks an integer or an inclusive `(min, max)` pair; returns a tuple."""
    if is_integer(value) and value >= minimum:
        return (int(value), int(value))
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(is_integer(v) and v >= minimum for v in value)
        and value[0] <= value[1]
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError(
        f"`{name}` must be an integer >= {minimum} or a pair (min, max) of "
        f"such integers with min <= max. Received: {name}={value!r}"
    )


def _float_range(name, value):
    """Checks a positive float or a `(min, max)` pair; returns a tuple."""
    if _is_positive_float(value):
        return (float(value), float(value))
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(_is_positive_float(v) for v in value)
        and value[0] <= value[1]
    ):
        return (float(value[0]), float(value[1]))
    raise ValueError(
        f"`{name}` must be a positive float or a pair (min, max) of positive "
        f"floats with min <= max. Received: {name}={value!r}"
    )


def _int_choices(name, value):
    """Checks an integer `>= 1` or a non-empty sequence of them."""
    if is_integer(value) and value >= 1:
        return (int(value),)
    if (
        isinstance(value, (tuple, list))
        and value
        and all(is_integer(v) and v >= 1 for v in value)
    ):
        return tuple(dict.fromkeys(int(v) for v in value))
    raise ValueError(
        f"`{name}` must be an integer >= 1 or a non-empty sequence of such "
        f"integers (the choices). Received: {name}={value!r}"
    )


def _copy_metric(metric):
    """A fresh instance of a `keras.metrics.Metric`; other metrics as is."""
    if isinstance(metric, keras.metrics.Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric


class SABHyperModel(keras_tuner.HyperModel):
    """A KerasTuner `HyperModel` of a sequence model built around `SAB`.

    The model is `Input((None, input_dim))` -> `SAB` (named `"sab"`) ->
    `Dense(num_outputs)`, compiled with Adam. The time dimension is `None`,
    so a tuned model runs on sequences of any length.

    Six hyper-parameters are searched, under these names: `"units"`
    (a choice), `"k_top"`, `"k_att"`, `"k_trunc"` (integer ranges),
    `"temperature"` and `"learning_rate"` (float ranges, sampled
    log-uniformly). Each range is
    set by the argument of the same name: a single value fixes the
    hyper-parameter (it is still recorded, as `hp.Fixed`), a pair
    `(min, max)` gives an inclusive range, and for `units` a sequence gives
    the choices.

    Args:
        input_dim: Integer `>= 1`, the number of input features per step.
        num_outputs: Integer `>= 1`, the width of the output `Dense` layer
            (the number of classes for a classification task).
        return_sequences: Boolean, whether the model outputs one prediction
            per step (`(batch, timesteps, num_outputs)`) or one per sequence
            (`(batch, num_outputs)`). Defaults to `True`.
        loss: A Keras loss (name, function or `keras.losses.Loss`), or `None`
            for `SparseCategoricalCrossentropy`, from logits when
            `output_activation` is `None`. Defaults to `None`.
        metrics: List of Keras metrics, or `None`. `keras.metrics.Metric`
            instances are copied for every model built. Defaults to `None`.
        units: Integer or sequence of integers `>= 1`, the choices of the
            SAB layer's width. Defaults to `(32, 64, 128)`.
        k_top: Integer `>= 0` or `(min, max)` range of the memories attended
            to per step. Defaults to `(2, 10)`: with `k_top=1` the lone
            weight is constant and the scorer never learns.
        k_att: Integer `>= 1` or `(min, max)` range of the steps between
            memory writes. Defaults to `(5, 20)`.
        k_trunc: Integer `>= 1` or `(min, max)` range of the truncation
            block length. Defaults to `(1, 20)`.
        learning_rate: Positive float or `(min, max)` range of Adam's
            learning rate. Defaults to `(1e-4, 1e-2)`.
        attention: `"sparse_softmax"`, `"sparse"` or `"dense"`, passed to
            `SAB`. Defaults to `"sparse_softmax"`.
        temperature: Positive float or `(min, max)` range of the softmax
            modes' temperature; `1.0` with `attention="sparse"`. Defaults to
            `1.0`.
        attention_units: Integer `>= 1`, passed to `SAB`. Defaults to `32`.
        dropout: Float in `[0, 1)`, passed to `SAB`. Defaults to `0.0`.
        layer_kwargs: Dict of further keyword arguments for `SAB` (such as
            initializers or regularizers), or `None`. It may not hold the
            arguments set here (`units`, `k_top`, `k_att`, `k_trunc`,
            `attention`, `temperature`, `attention_units`, `dropout`, `return_sequences`,
            `name`) nor `return_state`/`return_attention` (the model has one
            output). Defaults to `None`.
        output_activation: Activation of the output `Dense` layer. Defaults
            to `None` (logits).
        clipnorm: Positive float or `None`, Adam's gradient clipping norm.
            Defaults to `1.0`, as in the SAB authors' code.
        jit_compile: Passed to `model.compile`. Defaults to `"auto"`.
        name: Optional name of the hypermodel. Defaults to `None`.
        tunable: Boolean, whether the hyper-parameters defined here are
            tunable. Defaults to `True`.

    Returns:
        From `build(hp)`: a compiled `keras.Model`.

    Example:

    >>> from keras_sab.tasks import copy_dataset, copy_recall_accuracy
    >>> hypermodel = SABHyperModel(
    ...     input_dim=10, num_outputs=10, metrics=[copy_recall_accuracy],
    ...     units=(16, 32), k_top=(2, 5),
    ... )
    >>> tuner = keras_tuner.RandomSearch(
    ...     hypermodel,
    ...     objective=keras_tuner.Objective("val_copy_recall_accuracy", "max"),
    ...     max_trials=10, directory="runs/tune", overwrite=True,
    ... )
    >>> tuner.search(
    ...     copy_dataset(timesteps=20, batch_size=32, num_batches=50),
    ...     validation_data=copy_dataset(20, 32, num_batches=4, seed=1),
    ...     epochs=5,
    ... )
    >>> best_model = tuner.get_best_models()[0]
    """

    def __init__(
        self,
        input_dim,
        num_outputs,
        return_sequences=True,
        loss=None,
        metrics=None,
        units=(32, 64, 128),
        k_top=(2, 10),
        k_att=(5, 20),
        k_trunc=(1, 20),
        learning_rate=(1e-4, 1e-2),
        attention=defaults.ATTENTION,
        temperature=defaults.TEMPERATURE,
        attention_units=defaults.ATTENTION_UNITS,
        dropout=0.0,
        layer_kwargs=None,
        output_activation=None,
        clipnorm=1.0,
        jit_compile="auto",
        name=None,
        tunable=True,
    ):
        super().__init__(name=name, tunable=tunable)
        self.input_dim = validation.check_int("input_dim", input_dim, 1)
        self.num_outputs = validation.check_int("num_outputs", num_outputs, 1)
        self.return_sequences = bool(return_sequences)
        self.loss = loss
        self.metrics = list(metrics or [])
        self.units = _int_choices("units", units)
        self.k_top = _int_range("k_top", k_top, 0)
        self.k_att = _int_range("k_att", k_att, 1)
        self.k_trunc = _int_range("k_trunc", k_trunc, 1)
        self.learning_rate = _float_range("learning_rate", learning_rate)
        self.attention = validation.check_attention(attention)
        self.temperature = _float_range("temperature", temperature)
        for value in self.temperature:
            validation.check_temperature(value, self.attention)
        self.attention_units = validation.check_int(
            "attention_units", attention_units, 1
        )
        self.dropout = validation.check_rate("dropout", dropout)
        if layer_kwargs is not None and not isinstance(layer_kwargs, dict):
            raise ValueError(
                "`layer_kwargs` must be a dict of keyword arguments for SAB "
                f"or None. Received: layer_kwargs={layer_kwargs!r}"
            )
        self.layer_kwargs = dict(layer_kwargs or {})
        reserved = sorted(set(self.layer_kwargs) & set(_RESERVED_LAYER_ARGUMENTS))
        if reserved:
            raise ValueError(
                f"`layer_kwargs` may not set {reserved}: SABHyperModel sets "
                f"them. Received: layer_kwargs={layer_kwargs!r}"
            )
        self.output_activation = output_activation
        if clipnorm is not None and not _is_positive_float(clipnorm):
            raise ValueError(
                "`clipnorm` must be a positive float or None. "
                f"Received: clipnorm={clipnorm!r}"
            )
        self.clipnorm = clipnorm
        self.jit_compile = jit_compile

    def _define(self, hp):
        """Declares the six hyper-parameters in `hp`; returns their values."""
        values = {}
        if len(self.units) == 1:
            values["units"] = hp.Fixed("units", self.units[0])
        else:
            values["units"] = hp.Choice("units", self.units)
        for name in ("k_top", "k_att", "k_trunc"):
            low, high = getattr(self, name)
            if low == high:
                values[name] = hp.Fixed(name, low)
            else:
                values[name] = hp.Int(name, low, high)
        for name in ("temperature", "learning_rate"):
            low, high = getattr(self, name)
            if low == high:
                values[name] = hp.Fixed(name, low)
            else:
                values[name] = hp.Float(name, low, high, sampling="log")
        return values

    def build(self, hp):
        """Builds and compiles a model with the values drawn from `hp`.

        Args:
            hp: A `keras_tuner.HyperParameters`.

        Returns:
            A compiled `keras.Model`.
        """
        values = self._define(hp)
        model = keras.Sequential(
            [
                keras.Input((None, self.input_dim)),
                SAB(
                    values["units"],
                    k_top=values["k_top"],
                    k_att=values["k_att"],
                    k_trunc=values["k_trunc"],
                    attention=self.attention,
                    temperature=values["temperature"],
                    attention_units=self.attention_units,
                    dropout=self.dropout,
                    return_sequences=self.return_sequences,
                    name=SAB_LAYER_NAME,
                    **self.layer_kwargs,
                ),
                keras.layers.Dense(
                    self.num_outputs, activation=self.output_activation
                ),
            ]
        )
        loss = self.loss
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=self.output_activation is None
            )
        model.compile(
            optimizer=keras.optimizers.Adam(
                learning_rate=values["learning_rate"], clipnorm=self.clipnorm
            ),
            loss=loss,
            metrics=[_copy_metric(metric) for metric in self.metrics],
            jit_compile=self.jit_compile,
        )
        return model
