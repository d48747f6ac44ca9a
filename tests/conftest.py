"""Suite-wide settings.

Tests train tiny models, for which torch's intra-op threads only add synchronisation cost (and
oversubscribe the CPU when a test starts subprocesses), so the suite runs torch on one thread.
Set SEQCNN_TEST_THREADS to change that. Matplotlib draws off-screen.
"""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("SEQCNN_TEST_THREADS", "1")))
