"""Mean SAB read weight, by step range, of a copy T=100 run's training checkpoint.

    python docs/results/epsilon_1e-3/reads_from_checkpoint.py \\
        docs/results/epsilon_1e-3/copy_T100_sab/backup/latest.weights.h5

Run it with the whole tree at commit eb2771d (`git checkout eb2771d`;
normaliser ε = 1e-3), the code that trained this checkpoint (about 4,000
updates; the run was stopped when ε was changed). It builds the copy
example's model with the run's settings (the paper's weights,
`--attention sparse`), loads the weights and
prints, over 64 test sequences, the mean of each step's attention weights'
sum (1 = a full read, 0 = none) and the fraction of rows below 0.1.
"""

import os
import pathlib
import sys

from keras_sab import plots
from keras_sab import tasks

# The copy example and the examples' harness, `examples/experiment.py`.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "examples"))
import copy_task  # noqa: E402
import experiment  # noqa: E402


def main():
    args = experiment.parse_args(
        ["--out", os.devnull, "-T", "100", "--attention", "sparse"], "copy", "",
        add_arguments=copy_task.add_arguments, defaults=copy_task.DEFAULTS,
        int_flags=copy_task.INT_FLAGS,
    )
    task = copy_task.copy_task(args)
    model = experiment.compile_model(
        experiment.build_model(args, task), args, task.loss, task.metrics
    )
    model.optimizer.build(model.trainable_variables)
    model.load_weights(sys.argv[1])
    x, _ = tasks.copy_arrays(100, 64, seed=7, one_hot=True)
    read = plots.attention_weights(model, x).sum(-1)
    for low, high in [(11, 40), (40, 70), (70, 100), (100, 110), (110, 120)]:
        part = read[:, low:high]
        print(f"steps {low}-{high - 1}: mean read {part.mean():.4f}, "
              f"rows below 0.1: {(part < 0.1).mean():.3f}")


if __name__ == "__main__":
    main()
