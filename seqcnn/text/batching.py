"""Datasets, length-bucketed batches and per-batch padding for variable-length id sequences.

Kim (2014) pads every sentence with ``w−1`` zeros on each side (w = widest filter) so that
every word is seen by every filter position; ports that pad to the corpus maximum waste most of
their compute on padding (MR: 67 positions for 21 words on average). Here each batch is padded
to max(longest in the batch, widest filter) plus ``w−1`` zeros per side, and batches are drawn
from buckets of similar length. The model masks windows made only of padding, so a sentence
gets the same logits whatever batch it is in.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch

__all__ = ["SequenceDataset", "bucket_batches", "BucketSampler", "PadCollate", "available_memory",
           "check_batch_memory", "BatchMemoryError"]


class SequenceDataset(torch.utils.data.Dataset):
    """Id sequences (list of int64 arrays) and optional targets — integer class indices ``(n,)``
    or a multi-label indicator ``(n, L)`` (float32 rows); item = (ids, y) or (ids,)."""

    def __init__(self, sequences: Sequence[np.ndarray], targets=None):
        self.sequences = list(sequences)
        if targets is not None:
            targets = np.asarray(targets)
            targets = targets.astype(np.float32) if targets.ndim == 2 else targets.astype(np.int64)
        self.targets = targets
        if self.targets is not None and len(self.targets) != len(self.sequences):
            raise ValueError(f"got {len(self.sequences)} sequences but {len(self.targets)} targets")
        self.lengths = np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(self.sequences))

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, i):
        if self.targets is None:
            return (self.sequences[i],)
        if self.targets.ndim == 2:
            return self.sequences[i], self.targets[i]
        return self.sequences[i], int(self.targets[i])


def bucket_batches(lengths: np.ndarray, batch_size: int, shuffle: bool, generator: torch.Generator | None = None,
                   *, pool_factor: int = 50) -> list[list[int]]:
    """Index batches of similar lengths.

    Shuffled: the items are shuffled, cut into pools of ``pool_factor × batch_size``, each pool
    sorted by length and cut into batches, and the batch order shuffled — batches of similar
    lengths with little padding (``pool_factor=1``: plain random batches, as in Kim's code; on
    MR and TREC both give the same accuracy, see docs/benchmarks.md).
    Not shuffled (prediction): sorted by length, then cut.
    A trailing batch of a single item joins the previous batch.
    """
    n = len(lengths)
    lengths = np.asarray(lengths)
    if shuffle:
        order = torch.randperm(n, generator=generator).numpy()
        pool = max(batch_size * pool_factor, batch_size)
        batches = []
        for start in range(0, n, pool):
            chunk = order[start:start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches.extend(chunk[i:i + batch_size].tolist() for i in range(0, len(chunk), batch_size))
        perm = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[i] for i in perm]
    else:
        order = np.argsort(lengths, kind="stable")
        batches = [order[i:i + batch_size].tolist() for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1 and not shuffle:
        batches[-2].extend(batches.pop())
    elif shuffle:
        singles = [b for b in batches if len(b) == 1]
        if singles and len(batches) > 1:
            batches = [b for b in batches if len(b) != 1]
            for s in singles:
                batches[-1].extend(s)
    return batches


class BucketSampler:
    """``sampler(n_items, batch_size, shuffle, generator)`` — the engine Trainer's batch-sampler
    signature — over a dataset whose lengths are known."""

    def __init__(self, lengths, pool_factor: int = 50):
        self.lengths = np.asarray(lengths)
        self.pool_factor = pool_factor

    def __call__(self, n_items, batch_size, shuffle, generator=None):
        if n_items != len(self.lengths):
            raise ValueError(f"BucketSampler built for {len(self.lengths)} items, asked for {n_items}")
        return bucket_batches(self.lengths, batch_size, shuffle, generator, pool_factor=self.pool_factor)


class PadCollate:
    """Batch items → ``((ids (N, L) long,), targets (N,) long | (N, labels) float | None)``.

    ``left`` zeros before every sequence (Kim: widest filter − 1), then the sequence, then zeros
    up to ``L = left + max(longest, min_len) + right``. ``fixed_len`` instead truncates / pads every
    sequence to exactly that length (character CNNs take a fixed length).
    """

    def __init__(self, left: int = 0, right: int = 0, min_len: int = 1, fixed_len: int | None = None,
                 pad_id: int = 0):
        self.left, self.right, self.min_len = int(left), int(right), int(min_len)
        self.fixed_len = fixed_len
        self.pad_id = pad_id

    def __call__(self, items):
        seqs = [it[0] for it in items]
        if self.fixed_len is not None:
            width = self.fixed_len
            seqs = [s[:width] for s in seqs]
            left = 0
        else:
            longest = max((len(s) for s in seqs), default=0)
            width = self.left + max(longest, self.min_len) + self.right
            left = self.left
        out = np.full((len(seqs), width), self.pad_id, dtype=np.int64)
        for i, s in enumerate(seqs):
            out[i, left:left + len(s)] = s
        ids = torch.from_numpy(out)
        if len(items[0]) > 1:
            if np.ndim(items[0][1]):  # multi-label indicator rows
                return (ids,), torch.from_numpy(np.stack([it[1] for it in items]).astype(np.float32))
            return (ids,), torch.as_tensor([it[1] for it in items], dtype=torch.long)
        return (ids,), None


# ---------------------------------------------------------------------- memory guard
def available_memory(device=None) -> int | None:
    """Bytes free for tensors on ``device``: CUDA's free memory, else the host's available
    memory (``MemAvailable`` of ``/proc/meminfo``, falling back to ``os.sysconf``'s available
    physical pages); None when unknown."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        try:
            free, _total = torch.cuda.mem_get_info(device)
            return int(free)
        except Exception:
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def check_batch_memory(n_items: int, padded_len: int, floats_per_position: int, *, training: bool,
                       batch_size: int, max_len, device=None, available: int | None = None) -> int:
    """Refuse a batch that cannot fit before it is allocated.

    Estimate: ``n_items × padded_len × floats_per_position × 4 bytes`` for the forward pass
    (``floats_per_position`` = the float32 values a model keeps per sequence position: embedding,
    unfolded windows, feature maps), ×3 when ``training`` (kept activations, their gradients and
    temporaries). A lower bound of the real peak: the refusal only triggers when even that does
    not fit in :func:`available_memory` (or ``available``). Returns the estimate in bytes;
    ``MemoryError`` (whose message names ``batch_size`` and ``max_len``) when it cannot fit.
    """
    need = int(n_items) * int(padded_len) * int(floats_per_position) * 4 * (3 if training else 1)
    free = available_memory(device) if available is None else available
    if free is not None and need > free:
        cap = "None: no cap" if max_len is None else str(max_len)
        raise BatchMemoryError(
            f"one {'training' if training else 'prediction'} batch needs about {_human_bytes(need)} "
            f"({n_items} texts × {padded_len:,} padded tokens × {floats_per_position:,} values × 4 bytes"
            f"{' × 3 for training' if training else ''}) but {_human_bytes(free)} is available: "
            f"lower batch_size (now {batch_size}) or max_len (now {cap}) so that the longest text fits")
    return need


class BatchMemoryError(MemoryError, ValueError):
    """A batch that cannot fit in memory (a ``MemoryError`` and a ``ValueError``, so command
    lines report it as an input error)."""
