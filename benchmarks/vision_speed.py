#!/usr/bin/env python
"""Training speed of the engine's fast path against plain fp32 NCHW eager, interleaved.

ResNet-18 on CIFAR-size images (32×32, the 3×3 "cifar" stem, batch 128): training steps per
second (forward, backward, SGD step) with the fast path — channels_last memory format, and on
CUDA also bf16 autocast and ``torch.compile`` — against the same model and data in plain fp32
NCHW eager mode. Rounds alternate between the two so that load changes on a shared machine hit
both alike; the median over rounds is reported with the ratio. On CUDA the script also measures
ResNet-50 training throughput on 224×224 images (images/s, fast path).

    python benchmarks/vision_speed.py [--batch-size 128] [--rounds 3] [--steps 3] [--out speed.json]

Synthetic data (random tensors): speed does not depend on the pixels. ``--data-dir`` is accepted
for symmetry with the other benchmarks and unused.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _step_fn(model, opt, x, y, *, amp_dtype, device_type):
    import torch
    import torch.nn.functional as F

    def step():
        with torch.autocast(device_type=device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def _time(step, steps, device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data", help="unused (synthetic data)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=3, help="timed steps per round and mode")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--width", type=float, default=1.0, help="ResNet-18 width multiplier (1.0 = the real one)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-compile", action="store_true", help="CUDA fast path without torch.compile")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    import torch

    import vision
    from seqcnn.engine.device import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    torch.manual_seed(0)
    base = vision.create_model("resnet18", num_classes=10, input_size=args.size, stem="cifar", width=args.width)
    x = torch.randn(args.batch_size, 3, args.size, args.size, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)

    plain = copy.deepcopy(base).to(device).train()
    fast = copy.deepcopy(base).to(device).train().to(memory_format=torch.channels_last)
    fast_model = torch.compile(fast) if (cuda and not args.no_compile) else fast
    x_cl = x.contiguous(memory_format=torch.channels_last)
    opt_p = torch.optim.SGD(plain.parameters(), lr=0.01, momentum=0.9)
    opt_f = torch.optim.SGD(fast.parameters(), lr=0.01, momentum=0.9)
    step_plain = _step_fn(plain, opt_p, x, y, amp_dtype=None, device_type=device.type)
    step_fast = _step_fn(fast_model, opt_f, x_cl, y, amp_dtype=torch.bfloat16 if cuda else None,
                         device_type=device.type)
    for _ in range(args.warmup):
        step_plain()
        step_fast()
    rates = {"plain": [], "fast": []}
    for r in range(args.rounds):
        order = [("plain", step_plain), ("fast", step_fast)] if r % 2 == 0 else [("fast", step_fast), ("plain", step_plain)]
        for name, fn in order:
            rates[name].append(_time(fn, args.steps, device))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["fast"] / med["plain"]
    fast_desc = "channels_last + bf16 autocast" + ("" if args.no_compile else " + torch.compile") if cuda \
        else "channels_last (fp32; bf16/compile are the CUDA part)"
    result = {
        "benchmark": "vision_speed", "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else "cpu",
        "threads": torch.get_num_threads(), "torch": torch.__version__, "model": "resnet18 (cifar stem)",
        "width": args.width, "batch_size": args.batch_size, "size": args.size, "rounds": args.rounds,
        "steps_per_round": args.steps, "plain_steps_per_s": med["plain"], "fast_steps_per_s": med["fast"],
        "ratio": ratio, "fast_path": fast_desc, "all_rates": rates,
    }
    print("| model | batch | device | plain fp32 NCHW eager (steps/s) | fast path (steps/s) | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| ResNet-18 {args.size}×{args.size} | {args.batch_size} | {result['device_name']} "
          f"({result['threads']} threads) | {med['plain']:.3f} | {med['fast']:.3f} | {ratio:.2f}× |")
    print(f"fast path: {fast_desc}")
    if cuda:  # ResNet-50 at 224: images/s with the fast path
        m = vision.create_model("resnet50").to(device).train().to(memory_format=torch.channels_last)
        m = torch.compile(m) if not args.no_compile else m
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        xb = torch.randn(64, 3, 224, 224, device=device).contiguous(memory_format=torch.channels_last)
        yb = torch.randint(0, 1000, (64,), device=device)
        step = _step_fn(m, opt, xb, yb, amp_dtype=torch.bfloat16, device_type="cuda")
        for _ in range(3):
            step()
        ips = _time(step, 10, device) * 64
        result["resnet50_224_images_per_s"] = ips
        print(f"ResNet-50 224×224, batch 64, fast path: {ips:.0f} images/s")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
