#!/usr/bin/env bash
# The stream-credit runs of docs/results/stateful_stream/README.md, in order, one at a time.
# Usage: bash docs/results/stateful_stream/run.sh [part]   (part: short, long; default: both)
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=docs/results/stateful_stream
part=${1:-all}
if [[ $part == all || $part == short ]]; then
  # The cue 200 steps before the question, 2 segments, asked only at the end.
  for seed in 0 1 2; do
    python examples/stateful_stream.py --seed "$seed" --out "$out/credit_seed$seed"
  done
  python examples/stateful_stream.py --seed 0 --no-stream-credit --out "$out/no_credit_seed0"
fi
if [[ $part == all || $part == long ]]; then
  # The cue 2,000 steps before the question, 10 calls of 201 steps, 32 memories kept
  # (320 steps of writes): each keeping policy.
  for keep in most_read latest; do
    python examples/stateful_stream.py -T 2000 --segments 10 --max-memories 32 \
      --keep "$keep" --updates "${LONG_UPDATES:-400}" --seed 0 --out "$out/long_T2000_$keep"
  done
fi
