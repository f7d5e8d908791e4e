"""SAB on the copy task across workers, on TensorFlow's MultiWorkerMirroredStrategy.

Two processes on one machine (two terminals, or `&`):

    python examples/multi_worker.py --workers 127.0.0.1:12345,127.0.0.1:12346 \\
        --worker-index 0 --out runs/multi_worker --quick
    python examples/multi_worker.py --workers 127.0.0.1:12345,127.0.0.1:12346 \\
        --worker-index 1 --out runs/multi_worker --quick

On two machines, the same `--workers host0:12345,host1:12345` on both, index 0
on the first and 1 on the second, and an `--out` folder both can read (the
checkpoints are there). Without `--workers`, the cluster comes from
`TF_CONFIG`. Every worker trains on its rows of each global batch
(`keras_sab.multi_worker.train_multi_worker`) and writes
`--out/worker_<index>.json` (its losses and a digest of its final weights);
the chief (index 0) also writes the log, the checkpoints and `model.keras`.
Run the same commands again after a failure: training resumes from the last
checkpoint. `--quick` trains 20 steps of a small model, in well under a
minute.
"""

import argparse
import hashlib
import json
import os

import keras

import keras_sab
from keras_sab import multi_worker
from keras_sab import tasks

# Flag defaults, and those of `--quick` (flags given explicitly win over both).
FULL = {"timesteps": 100, "units": 128, "steps": 1000, "batch_size": 64}
QUICK = {"timesteps": 10, "units": 16, "steps": 20, "batch_size": 16}


def parse_args(argv=None):
    """The example's flags; `--workers` and `--worker-index` checked."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers",
                        help="Comma-separated host:port of every worker, the chief first "
                             "(default: TF_CONFIG's).")
    parser.add_argument("--worker-index", type=int,
                        help="This worker's position in --workers.")
    parser.add_argument("--out", required=True, help="Output folder, shared by the workers.")
    parser.add_argument("--quick", action="store_true", help="A few steps of a small model.")
    parser.add_argument("-T", "--timesteps", type=int, help="Copy delay (100; quick: 10).")
    parser.add_argument("--units", type=int, help="SAB's width (128; quick: 16).")
    parser.add_argument("--steps", type=int, help="Global batches in all (1000; quick: 20).")
    parser.add_argument("--batch-size", type=int, help="Global batch size (64; quick: 16).")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate.")
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="Seed of weights and data.")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="Seconds to wait for the other workers to come up.")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.workers is None:
        cluster = multi_worker.cluster_from_environment()
        if cluster is None:
            raise ValueError("Give `--workers` and `--worker-index`, or set TF_CONFIG.")
        args.workers, args.worker_index = ",".join(cluster[0]), cluster[1]
    workers = multi_worker.parse_workers(args.workers)
    if not isinstance(args.worker_index, int) or not 0 <= args.worker_index < len(workers):
        raise ValueError(
            f"`--worker-index` must be in 0..{len(workers) - 1}. "
            f"Received: --worker-index={args.worker_index}"
        )
    for name in ("timesteps", "units", "steps", "batch_size", "checkpoint_every"):
        keras_sab.validation.check_int(f"--{name.replace('_', '-')}", getattr(args, name), 1)
    if args.batch_size % len(workers):
        raise ValueError(
            f"`--batch-size` must be divisible by the {len(workers)} workers. "
            f"Received: --batch-size={args.batch_size}"
        )
    return args


def weights_digest(model):
    """SHA-256 of the model's weights, to compare workers exactly."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()


def main(argv=None):
    """Trains this worker; returns what it writes to `worker_<index>.json`."""
    args = parse_args(argv)
    multi_worker.set_cluster(args.workers, args.worker_index)
    strategy = multi_worker.connect(timeout=args.timeout)
    keras.utils.set_random_seed(args.seed)
    with strategy.scope():
        model = keras.Sequential([
            keras.Input((None, tasks.COPY_VOCAB_SIZE)),
            keras_sab.SAB(args.units, return_sequences=True),
            keras.layers.Dense(tasks.COPY_VOCAB_SIZE),
        ])
        model.compile(
            keras.optimizers.Adam(args.lr, clipnorm=1.0),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,
        )
    losses = multi_worker.train_multi_worker(
        model,
        tasks.copy_dataset(args.timesteps, args.batch_size, seed=args.seed),
        args.steps,
        os.path.join(args.out, "checkpoints"),
        strategy=strategy,
        checkpoint_every=args.checkpoint_every,
    )
    result = {
        "worker": args.worker_index,
        "workers": args.workers,
        "steps": args.steps,
        "losses": losses,
        "final_loss": losses[-1] if losses else None,
        "weights_sha256": weights_digest(model),
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"worker_{args.worker_index}.json"), "w") as stream:
        json.dump(result, stream, indent=2)
    if multi_worker.is_chief(strategy):
        model.save(os.path.join(args.out, "model.keras"))
    print(f"worker {args.worker_index}: {len(losses)} steps, final loss {result['final_loss']}")
    return result


if __name__ == "__main__":
    main()
