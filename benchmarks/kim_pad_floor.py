"""Does masking max-over-time lose anything against Kim's unmasked pad windows?

Kim (2014) pads every sentence with zero rows up to the corpus maximum, so each window made of
padding only scores ``relu(b)`` and max-over-time returns ``max(max over the real windows,
relu(b))`` for every sentence but the longest. seqcnn masks those windows instead (an all-pad
window never wins, so one sentence scores the same alone and in a batch). This script runs
``kim_table.py`` unchanged except for that floor (``KimCNN.forward_features`` is wrapped to
return ``max(masked max, relu(bias))``), so its results pair with ``kim_table.py``'s runs of the
same folds and seeds. Every argument is passed on to ``kim_table.py``.

Measured 2026-11-24 (2-core EPYC, two 1-thread processes), paired with the default recipe:
MR 10 folds validation +0.21 ± 0.18 (standard error; 7 up, 2 down), test −0.23 ± 0.19;
TREC seeds 0–9 validation +0.07 ± 0.13 (4 up, 4 down), test −0.20 ± 0.13 — no measurable
effect, so the masked form (needed for batch-independent logits) stays.

    python benchmarks/kim_pad_floor.py --datasets trec --seed-ids 0,2,4,6,8 --threads 1 --out a.json
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kim_table  # noqa: E402
from seqcnn.text.models import KimCNN  # noqa: E402

_masked_features = KimCNN.forward_features


def _kim_pad_floor_features(self, ids: torch.Tensor) -> torch.Tensor:
    """(N, L) → (N, F·len(widths)): masked max-over-time floored at relu(bias), as Kim's padding gives."""
    pooled = _masked_features(self, ids)
    return torch.maximum(pooled, torch.cat([conv.bias for conv in self.convs]).relu())


def main(argv=None) -> int:
    KimCNN.forward_features = _kim_pad_floor_features
    try:
        return kim_table.main(argv)
    finally:
        KimCNN.forward_features = _masked_features


if __name__ == "__main__":
    sys.exit(main())
