#!/usr/bin/env bash
# The runs behind docs/RESULTS.md, in the order they were made, one at a time
# (2-core CPU, no XLA: on CPU it is slower for LSTMs). Each writes
# docs/results/<run>/metrics.json, log.csv and plots; a killed run restarted
# with the same command continues from its last finished epoch.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
COMMON="--no-jit --batch-size 64 --lr 1e-3 --clipnorm 1.0 --seed 0"
COPY_BUDGET="--units 128 --epochs 20 --steps-per-epoch 100"   # 2,000 updates per model

# 1. Copy task, T=100: SAB, LSTM (full BPTT) and TBPTT, same budget (the
#    LSTM + self-attention baseline, the slowest, runs last: step 6).
for model in sab lstm tbptt; do
  $PY examples/copy_task.py -T 100 --model $model $COMMON $COPY_BUDGET \
      --out docs/results/copy_T100_$model
done

# 2. Transfer: the T=100 copy models evaluated at longer T.
for model in sab lstm; do
  $PY examples/transfer.py --model-path docs/results/copy_T100_$model/model.keras \
      --eval-t 100 200 500 1000 2000 5000 --eval-batches 2 $COMMON --units 128 \
      --out docs/results/transfer_$model
done

# 3. Real images: permuted pixel digits (scikit-learn, T=64), SAB vs LSTM.
for model in sab lstm; do
  $PY examples/pixel_mnist.py --source digits --permute --model $model $COMMON \
      --units 128 --epochs 30 --out docs/results/digits_permuted_$model
done

# 4. Real text: the gensim Wikipedia excerpt, text8 filter, bits per character.
# LSTM with 135 units has the parameter count of SAB with 128 (91.7k vs 91.6k).
$PY examples/text8.py --model sab --k-trunc 10 --k-top 5 $COMMON --units 128 --epochs 5 \
    --steps-per-epoch 200 --out docs/results/text8_sab
$PY examples/text8.py --model lstm $COMMON --units 135 --epochs 5 \
    --steps-per-epoch 200 --out docs/results/text8_lstm

# 5. Copy task, T=200: SAB and LSTM (full BPTT), same budget; attention heatmap.
for model in sab lstm; do
  $PY examples/copy_task.py -T 200 --model $model $COMMON $COPY_BUDGET \
      --out docs/results/copy_T200_$model
done

# 6. Copy task, T=100: the LSTM + full self-attention baseline, same budget.
$PY examples/copy_task.py -T 100 --model self_attention $COMMON $COPY_BUDGET \
    --out docs/results/copy_T100_self_attention
