"""Training and inference speed of Kim's CNN-rand on MR: the usual PyTorch port vs seqcnn.

(a) the port found in most repositories: ``nn.Conv2d(1, 100, (w, 300))`` per width over a
    (N, 1, L, 300) image of embeddings, every sentence padded to the corpus maximum (plus Kim's
    w−1 zeros per side), dense ``torch.optim.Adadelta`` over all parameters (5.6 M of them in the
    embedding);
(b) seqcnn's ``KimCNN``: length-bucketed batches padded per batch, the conv banks as one fused
    matrix product, masked max-over-time, sparse embedding gradients with the exact lazy
    Adadelta.
Same vocabulary, hyper-parameters (300-d, 100 × (3, 4, 5), dropout 0.5, batch 50, Adadelta
ρ 0.95 ε 1e-6 lr 1, max-norm 3), same machine and thread count; (a) and (b) are interleaved
step by step so that load changes hit both alike.

Inference: seqcnn's useful throughput — FLOPs counted on real tokens only,
2 · Σᵢ nᵢ · 300 · 100 · (3 + 4 + 5) for sentences of nᵢ tokens — against the fp32 matrix-multiply
peak (2048³ GEMM) measured in the same run.

Data: ``--data-dir`` (default ../shared/data) must hold text/rt-polarity.all (MR, Pang & Lee
2005: https://www.cs.cornell.edu/people/pabo/movie-review-data/, sentence polarity v1.0).

    python benchmarks/textcnn_speed.py --threads 1 --rounds 2 --max-batches 40
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = (3, 4, 5)
DIM, MAPS, BATCH = 300, 100, 50


class NaiveKimCNN(nn.Module):
    """The common port: Conv2d over the (L, 300) embedding image, plain max-pool over time."""

    def __init__(self, vocab_size, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, DIM, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv2d(1, MAPS, (w, DIM)) for w in WIDTHS)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(MAPS * len(WIDTHS), num_classes)

    def forward(self, ids):
        x = self.embedding(ids).unsqueeze(1)  # (N, 1, L, 300)
        pooled = [F.relu(conv(x)).squeeze(3).max(dim=2).values for conv in self.convs]
        return self.fc(self.dropout(torch.cat(pooled, 1)))


def _max_norm(model, limit=3.0):
    with torch.no_grad():
        w = model.fc.weight
        w.mul_(torch.clamp(limit / (w.norm(dim=1, keepdim=True) + 1e-12), max=1.0))


def _step(model, opt, make_ids, y):
    """One training step, timed from building the padded batch to the max-norm constraint."""
    t0 = time.perf_counter()
    loss = F.cross_entropy(model(make_ids()), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    _max_norm(model)
    return time.perf_counter() - t0


def _gemm_peak(n=2048, reps=3):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--threads", type=int, default=None, help="torch threads for both sides")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds (a, b, a, b, ...)")
    p.add_argument("--max-batches", type=int, default=None,
                   help="time only this many (random) batches per round and extrapolate to an epoch")
    p.add_argument("--infer-batch", type=int, default=500)
    p.add_argument("--infer-limit", type=int, default=None, help="time inference on the first N sentences only")
    p.add_argument("--out", default=None, help="write JSON results here")
    return p.parse_args(argv)


def _load_mr(data_dir):
    """MR as token-id sequences: ``(seqs, y, lengths, vocab_size)``."""
    from seqcnn.text import TextPipeline, read_labeled_lines

    path = Path(data_dir) / "text" / "rt-polarity.all"
    if not path.exists():
        sys.exit(f"missing {path}: see --help for where to get MR")
    texts, labels = read_labeled_lines(path)
    pipe = TextPipeline.from_preset("kim2014").fit(texts)
    seqs = pipe.transform(texts)
    y = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    lengths = np.array([len(s) for s in seqs])
    return seqs, y, lengths, len(pipe.vocab)


def _padded_to_max(seqs, max_len, pad):
    """The port's input: every sentence padded to the corpus maximum plus ``pad`` zeros per side,
    ``(N, max_len + 2 pad)``."""
    full = np.zeros((len(seqs), max_len + 2 * pad), dtype=np.int64)
    for i, s in enumerate(seqs):
        full[i, pad:pad + len(s)] = s
    return torch.from_numpy(full)


def _train_round(r, data, naive, ours, args):
    """One interleaved round of training steps; the per-epoch times extrapolated from it."""
    from seqcnn.text import bucket_batches

    seqs, y, lengths, full, collate, n_batches = data
    gen = torch.Generator().manual_seed(r)
    perm = torch.randperm(len(seqs), generator=gen).numpy()
    naive_batches = [perm[i:i + BATCH] for i in range(0, len(perm), BATCH)]
    ours_batches = [np.asarray(b) for b in bucket_batches(lengths, BATCH, True, gen)]
    if args.max_batches:
        naive_batches, ours_batches = naive_batches[:args.max_batches], ours_batches[:args.max_batches]
    # Alternate the two step by step, so that the shared machine's load hits both alike.
    naive[0].train()
    ours[0].train()
    ta = tb = 0.0
    for k in range(max(len(naive_batches), len(ours_batches))):
        if k < len(naive_batches):
            idx = naive_batches[k]
            ta += _step(*naive, lambda: full[idx], torch.as_tensor(y[idx]))
        if k < len(ours_batches):
            idx = ours_batches[k]
            tb += _step(*ours, lambda: collate([(seqs[i],) for i in idx])[0][0], torch.as_tensor(y[idx]))
    pos_a = full.shape[1]
    pos_b = np.mean([max(lengths[b].max(), max(WIDTHS)) + 2 * (max(WIDTHS) - 1) for b in ours_batches])
    ea, eb = ta / len(naive_batches) * n_batches, tb / len(ours_batches) * n_batches
    print(f"round {r}: port {ea:.1f} s/epoch ({pos_a} positions)  seqcnn {eb:.1f} s/epoch "
          f"({pos_b:.1f} positions on average)  ratio {eb / ea:.3f}", flush=True)
    return dict(round=r, port_epoch_s=ea, seqcnn_epoch_s=eb, ratio=eb / ea, port_positions=pos_a,
                seqcnn_positions=float(pos_b), batches_timed=len(naive_batches))


def _time_inference(data, naive, ours, args):
    """Seconds to predict the first ``n_inf`` sentences: ``(n_inf, useful FLOPs, t_naive, t_ours)``."""
    from seqcnn.text import bucket_batches

    seqs, _, lengths, full, collate, _ = data
    ours.eval()
    n_inf = min(len(seqs), args.infer_limit or len(seqs))
    useful = 2.0 * lengths[:n_inf].sum() * DIM * MAPS * sum(WIDTHS)
    order = bucket_batches(lengths[:n_inf], args.infer_batch, False)
    with torch.no_grad():
        ours(collate([(seqs[i],) for i in order[0]])[0][0])  # warm-up
        t0 = time.perf_counter()
        for idx in order:
            ours(collate([(seqs[i],) for i in idx])[0][0])
        t_ours = time.perf_counter() - t0
        naive.eval()
        t0 = time.perf_counter()
        for i in range(0, n_inf, args.infer_batch):
            naive(full[i:min(i + args.infer_batch, n_inf)])
        t_naive = time.perf_counter() - t0
    return n_inf, useful, t_naive, t_ours


def _print_table(rows, inference, peaks, args):
    n_inf, useful, t_naive, t_ours = inference
    peak, peak_after = peaks
    gflops = useful / t_ours / 1e9
    ratios = [r["ratio"] for r in rows]
    timed = f" (from {rows[0]['batches_timed']} batches/round)" if args.max_batches else ""
    print()
    print("| measure | usual port | seqcnn | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| training epoch on MR (s){timed} "
          f"| {np.mean([r['port_epoch_s'] for r in rows]):.1f} | {np.mean([r['seqcnn_epoch_s'] for r in rows]):.1f} "
          f"| {np.mean(ratios):.3f} (rounds: {', '.join(f'{x:.3f}' for x in ratios)}) |")
    print(f"| inference, sentences/s (batch {args.infer_batch}, {n_inf} sentences) | {n_inf / t_naive:.0f} | "
          f"{n_inf / t_ours:.0f} "
          f"| {t_naive / t_ours:.2f}x |")
    print(f"| inference, useful GFLOP/s (real tokens only) | {useful / t_naive / 1e9:.1f} | {gflops:.1f} | |")
    print(f"| fp32 GEMM 2048³ peak, GFLOP/s (before / after) | {peak:.1f} / {peak_after:.1f} | "
          f"{100 * gflops / max(peak, peak_after):.0f} % of peak | |")
    return gflops


def main(argv=None):
    args = _parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    from seqcnn.text import KimCNN, LazyAdadelta, PadCollate

    seqs, y, lengths, V = _load_mr(args.data_dir)
    pad, max_len = max(WIDTHS) - 1, int(lengths.max())
    n_batches = int(np.ceil(len(seqs) / BATCH))
    print(f"MR: {len(seqs)} sentences, vocabulary {V}, mean {lengths.mean():.1f} / max {max_len} tokens; "
          f"{n_batches} batches of {BATCH}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    collate = PadCollate(left=pad, right=pad, min_len=max(WIDTHS))
    data = (seqs, y, lengths, _padded_to_max(seqs, max_len, pad), collate, n_batches)

    naive = NaiveKimCNN(V, 2)
    naive_opt = torch.optim.Adadelta(naive.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    ours = KimCNN(V, 2, embedding_dim=DIM, filter_sizes=WIDTHS, num_filters=MAPS, sparse=True, fused=True)
    ours_opt = LazyAdadelta([q for q in ours.parameters() if q.requires_grad])
    rows = [_train_round(r, data, (naive, naive_opt), (ours, ours_opt), args) for r in range(args.rounds)]

    peak = _gemm_peak()
    inference = _time_inference(data, naive, ours, args)
    peak_after = _gemm_peak()
    gflops = _print_table(rows, inference, (peak, peak_after), args)
    if args.out:
        n_inf, useful, t_naive, t_ours = inference
        Path(args.out).write_text(json.dumps(dict(args=vars(args), rounds=rows, peak_gflops=[peak, peak_after],
                                                  infer_seconds=dict(port=t_naive, seqcnn=t_ours),
                                                  useful_gflops=gflops), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
