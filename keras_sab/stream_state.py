"""What a stateful `SAB` carries from one call to the next.

A stream fed in consecutive calls keeps, per row: `h` and `c`, the memories
kept (at most `max_memories`, oldest first), their stream ids and the
attention they received, the count of memories ever written and, with stream
credit, each kept memory's record (ALGORITHM.md §4b). `StreamState` holds
them as variables (not weights, as `keras.layers.RNN`'s states), hands them
to a call in front of its own memory, and after the call keeps what the
`keep` policy chooses.
"""

import keras
import tensorflow as tf

from keras_sab.memory_buffer import USAGE_DECAY
from keras_sab.memory_buffer import kept_positions
from keras_sab.precision import wide_dtype
from keras_sab.sab_step import SABState
from keras_sab.stream_records import RECORD_KINDS
from keras_sab.stream_records import StreamRecords
from keras_sab.stream_records import call_records
from keras_sab.stream_records import credited_memories
from keras_sab.stream_records import record_shapes
from keras_sab.write_schedule import call_memory_ids
from keras_sab.write_schedule import memories_written


def read_rows(variable, batch):
    """The value of a stream variable `(rows, ...)`, as `batch` rows.

    The layer checks that a call's batch is the stream's: reading the
    variables with the call's (possibly unknown) batch size keeps TensorFlow
    from inferring, from the variables' static shape, a batch size for the
    call's inputs, and folding the check away (`model.fit` traces with an
    unknown batch size).
    """
    return tf.convert_to_tensor(variable)[:batch]


def block_counters(written):
    """`SABState` counters `(batch, 3)` at the start of a block (nothing
    since the last write or cut) with `written` `(batch,)` memories."""
    return tf.pad(written[:, None], [[0, 0], [2, 0]])


class StreamState:
    """The variables of a stateful SAB's stream, and how a call uses them.

    Args:
        cell: the layer's built `SABCell`.
        batch_size: int, the static batch size.
        features: int, the input width.
        capacity: int, `max_memories`.
        keep: the policy of `memory_buffer.kept_positions`.
        credit: whether reads of kept memories credit the calls that wrote
            them (records are kept).
        variable_dtype: the layer's variable dtype.

    Attributes:
        batch_size: int, the rows of the stream.
        states: `SABState` of variables; `counters` holds the number of
            memories kept.
        memory_ids: int32 `(batch, capacity)`, their stream ids (-1: empty).
        memory_usage: `(batch, capacity)`, the attention they received.
        next_memory_id: int32 `(batch,)`, the memories written so far.
        records: `StreamRecords` of variables (`outputs` is `None` with the
            paper's read), or `None` without credit.
    """

    def __init__(self, cell, batch_size, features, capacity, keep, credit, variable_dtype):
        self.cell, self.capacity, self.keep = cell, capacity, keep
        self.batch_size = batch_size
        float_dtype, wide = variable_dtype, wide_dtype(variable_dtype)
        batch = batch_size

        def variables(shapes, dtypes, names):
            dtypes = [{"float": float_dtype, "wide": wide}.get(d, d) for d in dtypes]
            return [
                # Read as stored (not autocast): each use casts what it needs.
                keras.Variable(
                    tf.zeros(shape, dtype), trainable=False, dtype=dtype, autocast=False, name=name
                )
                if shape is not None else None
                for shape, dtype, name in zip(shapes, dtypes, names)
            ]

        self.states = SABState(
            *variables(
                [(batch, cell.units), (batch, cell.units), (batch, capacity, cell.units),
                 (batch, capacity, cell.attention_units), (batch,)],
                ["float", "float", "float", "wide", "int32"],
                SABState._fields,
            )
        )
        self.memory_ids, self.memory_usage, self.next_memory_id = variables(
            [(batch, capacity), (batch, capacity), (batch,)],
            ["int32", "wide", "int32"],
            ["memory_ids", "memory_usage", "next_memory_id"],
        )
        self.records = None
        if credit and cell.k_top > 0:
            shapes = record_shapes(batch, capacity, cell.settings, features, cell.units)
            names = [f"record_{name}" for name in StreamRecords._fields]
            self.records = StreamRecords(*variables(shapes, RECORD_KINDS, names))
        self.reset()

    @property
    def carried_variables(self):
        """Every variable the stream carries from call to call but the
        records, by name: `state_<field>` for each `SABState` field, then
        `memory_ids`, `memory_usage` and `next_memory_id`."""
        named = {f"state_{name}": v for name, v in self.states._asdict().items()}
        named.update(
            memory_ids=self.memory_ids,
            memory_usage=self.memory_usage,
            next_memory_id=self.next_memory_id,
        )
        return named

    def reset(self):
        """Zero `h` and `c`, no memories, no records."""
        for variable in [*self.carried_variables.values(), *self._record_variables]:
            variable.assign(tf.zeros_like(variable))
        self.memory_ids.assign(-tf.ones_like(self.memory_ids))

    def carried_state(self, state):
        """`state` (a call's empty state) with the carried `h`, `c` and
        memories in front of its own memory.

        The carried `h` and `c` are constants: the call boundary cuts the
        recurrent gradient. The memories are constants too unless the stream
        is credited (`stream_records.credited_memories`).
        """
        batch = tf.shape(state.h)[0]
        carried = SABState(*[tf.stop_gradient(read_rows(v, batch)) for v in self.states])
        memory = tf.cast(carried.memory, state.memory.dtype)
        keys = tf.cast(carried.keys, state.keys.dtype)
        if self.records is not None:
            cell, dtype = self.cell, state.h.dtype
            memory, keys = credited_memories(
                memory, keys, read_rows(self.memory_ids, batch), self._record_tensors(dtype, batch),
                cell.step_weights(), tf.cast(cell.kernel, dtype),
                None if cell.bias is None else tf.convert_to_tensor(cell.bias), cell.settings,
            )
        return SABState(
            tf.cast(carried.h, state.h.dtype),
            tf.cast(carried.c, state.c.dtype),
            tf.concat([memory, state.memory], 1),
            tf.concat([keys, state.keys], 1),
            block_counters(carried.counters),
        )

    @property
    def _record_variables(self):
        """The records' variables (the fields a read leaves `None` have none)."""
        return [v for v in self.records or [] if v is not None]

    def _record_tensors(self, dtype, batch):
        """The records' values: `h` and the inputs in `dtype`, `c` and the
        scorer's values in its `wide_dtype` (see `stream_records.RECORD_KINDS`)."""
        dtypes = {"float": dtype, "wide": wide_dtype(dtype)}
        return StreamRecords(*[
            None if v is None else tf.cast(read_rows(v, batch), dtypes.get(kind, v.dtype))
            for v, kind in zip(self.records, RECORD_KINDS)
        ])

    def carry_over(self, final, steps, inputs, h0, recurrent_mask, steps_run):
        """Stores what a call leaves: its final `h` and `c`, and the memories
        `keep` chooses among the carried ones and the call's, with their ids,
        usage and records.

        A row that ran no step (every step masked) is left exactly as it
        was; the usage of the others' memories fades by `USAGE_DECAY`.

        Args:
            final: the call's final `SABState` (its buffers: the carried
                memories, then the call's).
            steps: the call's per-step values (see `SAB`'s loops).
            inputs: `(batch, timesteps, features)`, the call's inputs after
                dropout.
            h0: `(batch, units)`, `h` before the call.
            recurrent_mask: the call's recurrent dropout mask, or `None`.
            steps_run: int32 `(batch,)`, the steps each row ran (its
                unmasked steps).
        """
        cell, capacity = self.cell, self.capacity
        positions = tf.shape(final.memory)[1]
        written = memories_written(steps_run, cell.k_att)
        if cell.k_top == 0:
            written = tf.zeros_like(written)
        batch = tf.shape(steps_run)[0]
        carried = read_rows(self.states.counters, batch)
        new, new_ids = call_memory_ids(
            carried, written, read_rows(self.next_memory_id, batch), positions
        )
        pad = [[0, 0], [0, positions - capacity]]
        ids = tf.where(
            new, new_ids, tf.pad(read_rows(self.memory_ids, batch), pad, constant_values=-1)
        )
        decay = tf.where(steps_run > 0, USAGE_DECAY, 1.0)[:, None]
        usage = read_rows(self.memory_usage, batch) * tf.cast(decay, self.memory_usage.dtype)
        usage = tf.pad(usage, pad)
        usage += self._received_attention(steps, positions)
        kept_at, count = kept_positions(ids, usage, capacity, self.keep)
        kept = tf.range(capacity)[None, :] < count[:, None]

        def gather(values, empty=0, at=kept_at):
            values = tf.gather(values, at, axis=1, batch_dims=1)
            mask = tf.reshape(kept, tf.concat([tf.shape(kept), [1] * (len(values.shape) - 2)], 0))
            return tf.where(mask, values, tf.cast(empty, values.dtype))

        if self.records is not None:
            records = call_records(steps, inputs, h0, recurrent_mask, ids, cell.settings,
                                   capacity)
            # The carried records, then this call's, in the order written.
            carried_column = carried[:, None]
            source = tf.where(
                kept_at < carried_column, kept_at, capacity + kept_at - carried_column
            )
            # The unused ones point at any record.
            source = tf.minimum(source, capacity + tf.shape(records.valid)[1] - 1)
            for variable, added in zip(self.records, records):
                if variable is None:
                    continue
                combined = tf.concat(
                    [read_rows(variable, batch), tf.cast(added, variable.dtype)], axis=1
                )
                variable.assign(gather(combined, at=source))
        values = (final.h, final.c, gather(final.memory), gather(final.keys), count)
        for variable, value in zip(self.states, values):
            variable.assign(tf.cast(value, variable.dtype))
        self.memory_ids.assign(gather(ids, -1))
        self.memory_usage.assign(gather(usage))
        self.next_memory_id.assign_add(written)

    def _received_attention(self, steps, positions):
        """`(batch, positions)`, the attention weight each buffer position
        received over the call's steps."""
        if "chosen_w" not in steps:
            return 0.0
        weights = tf.cast(steps["chosen_w"], self.memory_usage.dtype)
        if "chosen" not in steps:
            return tf.reduce_sum(weights, axis=0)
        batch = tf.shape(weights)[1]
        rows = tf.range(batch)[None, :, None] * positions
        received = tf.math.unsorted_segment_sum(
            tf.reshape(weights, [-1]), tf.reshape(rows + steps["chosen"], [-1]), batch * positions
        )
        return tf.reshape(received, [batch, positions])
