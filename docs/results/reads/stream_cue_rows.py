"""Which rows of the stream keep reading memory 0, and their cue's symbol.

Trains the stateful SAB of `examples/stateful_stream.py --models sab --seed 0`
(writing that run to OUT), then feeds its first 4 test batches as the stream
is (`keras_sab.plots.stream_reads`) and writes to OUT/cue_rows.json, per
batch: the rows whose heaviest read is memory 0 (written at step 10, the cue
window's end) at every step from step 21 on, their cue symbols, the symbols
of the other rows, and every row's weight on memory 0 at the question.

    PYTHONPATH=examples python docs/results/reads/stream_cue_rows.py \
        docs/results/reads/stream_sab_default
"""

import json
import os
import sys

import stateful_stream

from keras_sab import plots


def main(out):
    trained = {}
    write_reads = stateful_stream.write_reads

    def keep(model, x, args):
        trained["model"], trained["args"] = model, args
        return write_reads(model, x, args)

    stateful_stream.write_reads = keep
    stateful_stream.main(["--models", "sab", "--seed", "0", "--out", out])
    model, args = trained["model"], trained["args"]
    rows = {}
    for batch in range(4):
        x, y = stateful_stream.tasks.cue_recall_arrays(
            args.timesteps, args.batch_size, seed=(args.seed, batch, 1)
        )
        _, attention = plots.stream_reads(model, stateful_stream.stream_segments(x, args))
        on_memory_0 = (attention.argmax(-1)[:, 20:] == 0).all(axis=1)
        rows[batch] = {
            "rows_on_memory_0": [int(r) for r in on_memory_0.nonzero()[0]],
            "their_symbols": [int(v) for v in y[on_memory_0]],
            "other_rows_symbols": sorted({int(v) for v in y[~on_memory_0]}),
            "weight_on_memory_0_at_the_question": attention[:, -1, 0].round(3).tolist(),
        }
    with open(os.path.join(out, "cue_rows.json"), "w") as stream:
        json.dump(rows, stream, indent=1)
    for batch, row in rows.items():
        print(f"batch {batch}: rows on memory 0 {row['rows_on_memory_0']}, symbols "
              f"{row['their_symbols']}; the other rows' symbols {row['other_rows_symbols']}")


if __name__ == "__main__":
    main(sys.argv[1])
