"""Character-level language modelling on Text8 (ALGORITHM.md §8), in bits per character.

The model reads windows of `--seq-len` characters (27 symbols) and predicts
each next character; the score is the cross-entropy in bits per character
(BPC = loss / ln 2). The paper (k_trunc=10, k_top=5) reports SAB ahead of an
LSTM with full BPTT. The corpus is the real `text8.zip` given by `--text8`
(standard 90M/5M/5M split), or by default the English Wikipedia excerpt
shipped with gensim, turned into text8-style text by the text8 filter (about
3M characters, split 90/5/5 the same way; ALGORITHM.md §9).

    python examples/text8.py --quick
    python examples/text8.py --text8 ~/data/text8.zip --epochs 10 --steps 2000
"""

import math

import keras

from keras_sab import tasks

import experiment

QUICK = dict(
    seq_len=50, units=64, lr=3e-3, epochs=5, steps_per_epoch=100, max_chars=300_000
)


@keras.saving.register_keras_serializable(package="keras_sab_examples")
def bits_per_character(y_true, y_pred):
    """Cross-entropy of next-character logits in bits, per step.

    Args:
        y_true: int ids `(batch, steps)`.
        y_pred: logits `(batch, steps, 27)`.

    Returns:
        `(batch, steps)` cross-entropies divided by ln 2.
    """
    nats = keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=True
    )
    return nats / math.log(2.0)


def add_arguments(parser):
    """Adds the Text8 flags to `parser`."""
    parser.add_argument(
        "--text8",
        default=None,
        help="Path of text8.zip or the unzipped text8 (default: gensim's "
        "Wikipedia excerpt through the text8 filter).",
    )
    parser.add_argument(
        "--seq-len", type=int, default=180, help="Characters per window (T)."
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=None,
        help="Use only the first this many characters of the corpus.",
    )


def load_corpus(path, max_chars=None):
    """The text8-style corpus: `text8.zip` at `path`, or gensim's excerpt.

    Args:
        path: path of `text8.zip` or `text8`, or `None` for the Wikipedia
            excerpt shipped with gensim.
        max_chars: if not `None`, keep only this many characters. Defaults
            to `None`.

    Returns:
        The corpus, a string of `' '` and `'a'` to `'z'`.
    """
    if path is None:
        excerpt = tasks.gensim_wikipedia_excerpt_path()
        return tasks.wikipedia_xml_to_text8(excerpt, max_chars=max_chars)
    return tasks.read_text8(path)[:max_chars]


def text8_task(args):
    """The Text8 task for the flags `args`.

    Args:
        args: parsed flags (`text8`, `max_chars`, `seq_len`, `batch_size`,
            `seed`).

    Returns:
        A `experiment.Task`: shuffled training windows, the
        validation split evaluated after every epoch, the test split at the
        end, a `Dense(27)` head on every step and `bits_per_character`.
    """
    train, valid, test = tasks.text8_splits(load_corpus(args.text8, args.max_chars))

    def windows(text, shuffle):
        return tasks.char_windows_dataset(
            text, args.seq_len, args.batch_size, shuffle=shuffle, seed=args.seed
        )

    return experiment.Task(
        name="text8",
        train=windows(train, True),
        validation=windows(valid, False),
        test=windows(test, False),
        input_shape=(args.seq_len, tasks.TEXT8_VOCAB_SIZE),
        T=args.seq_len,
        head=keras.layers.Dense(tasks.TEXT8_VOCAB_SIZE, name="next_char"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[bits_per_character],
        return_sequences=True,
    )


def main(argv=None):
    """Runs Text8; returns `metrics.json`'s content."""
    args = experiment.parse_args(
        argv,
        "text8",
        __doc__,
        add_arguments,
        quick=QUICK,
        int_flags={"seq_len": 1, "max_chars": 1},
    )
    _, metrics = experiment.run_experiment(args, text8_task(args))
    bpc = metrics["test"]["bits_per_character"]
    label = experiment.model_label(args)
    print(f"text8, {label}: test {bpc:.3f} bits per character")
    return metrics


if __name__ == "__main__":
    main()
