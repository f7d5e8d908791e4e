"""Why a trained copy model fails at the recall steps: the numbers in docs/results/paper_weights.md.

    python docs/results/diagnose_recall.py MODEL.keras T

Prints, for 64 test sequences of the copy task at delay `T` (seed 7):
1. the mean loss (nats) of each phase of the sequence, and its share of the
   per-step loss the model trains on;
2. which classes the model predicts at the 10 recall steps, against the true
   symbols, and the mean gap between its two largest logits there;
3. the mean norm of the layer's output `h_t` at a few steps (SAB adds its
   attention read into the state it carries; an LSTM's `h` stays below
   `sqrt(units)`);
4. for 32 sequences (seed 11), the norm of the gradient of the loss with
   respect to each trainable variable.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

from keras_sab import plots
from keras_sab import tasks


def phase_losses(model, x, y):
    logits = np.asarray(model(x), np.float64)
    logits -= logits.max(-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_p, y[..., None], -1)[..., 0]
    length = nll.shape[1]
    phases = [
        ("symbols", 0, 10),
        ("blanks", 10, length - 11),
        ("marker", length - 11, length - 10),
        ("recall", length - 10, length),
    ]
    for name, low, high in phases:
        share = nll[:, low:high].sum(1).mean() / length
        print(
            f"{name:8s} steps {low + 1}-{high}: mean loss {nll[:, low:high].mean():.3f}, "
            f"share of the per-step loss {share:.3f}"
        )
    print(f"per-step loss {nll.mean():.4f}")
    recall = logits[:, -10:]
    predicted = np.bincount(recall.argmax(-1).ravel(), minlength=10)
    print("classes predicted at the recall steps:", predicted)
    print("true symbols at the recall steps:     ", np.bincount(y[:, -10:].ravel(), minlength=10))
    top2 = np.sort(recall, -1)[..., -2:]
    gap = np.mean(top2[..., 1] - top2[..., 0])
    print(f"mean gap between the two largest recall logits: {gap:.2f}")


def state_norms(model, x):
    layer = plots.find_sab_layer(model)
    norms = np.linalg.norm(np.asarray(layer(x)), axis=-1).mean(0)
    steps = [10, 20, 50, len(norms) // 2, len(norms) - 10, len(norms)]
    print("mean |h_t|:", ", ".join(f"step {t}: {norms[t - 1]:.2f}" for t in steps))


def gradient_norms(model, timesteps):
    x, y = tasks.copy_arrays(timesteps, 32, seed=11, one_hot=True)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    grads = tape.gradient(value, model.trainable_variables)
    for variable, grad in zip(model.trainable_variables, grads):
        print(f"|dL/d {variable.path}| = {float(tf.norm(grad)):.4g}")


def main():
    path, timesteps = sys.argv[1], int(sys.argv[2])
    model = keras.saving.load_model(path)
    x, y = tasks.copy_arrays(timesteps, 64, seed=7, one_hot=True)
    phase_losses(model, x, y)
    state_norms(model, x)
    gradient_norms(model, timesteps)


if __name__ == "__main__":
    main()
