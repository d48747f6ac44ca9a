"""Slow: every zoo model, at reduced width/size, trains 200 SGD steps on a small synthetic set
and its loss falls (USERS.md item 22: Kaiming init lets even VGG without batch norm train)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vision

from .test_models_forward import SMALL

# a few sizes differ from the smoke test to keep 200 steps affordable
SIZES = dict(SMALL)
SIZES["nin"] = (3, 8, {"variant": "cifar"})
SIZES["googlenet"] = (3, 32, {})  # no aux heads at this size; the ImageNet stem warns


def _synthetic(c, size, n=64, k=4, seed=0):
    """k classes = a bright square in one of four quadrants, on noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, size, size, generator=g) * 0.3
    y = torch.arange(n) % k
    q = size // 2
    for i in range(n):
        r, cc = divmod(int(y[i]), 2)
        x[i, :, r * q + q // 4: r * q + 3 * q // 4, cc * q + q // 4: cc * q + 3 * q // 4] += 2.0
    return x, y


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SIZES))
def test_loss_falls_within_200_steps(name):
    torch.manual_seed(0)
    c, size, kw = SIZES[name]
    kw = {k: v for k, v in kw.items() if k != "dropout"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-input warnings for the ImageNet stems
        model = vision.create_model(name, num_classes=4, in_channels=c, input_size=size, **kw).train()
    x, y = _synthetic(c, size)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(200):
        idx = torch.randperm(len(x), generator=g)[:16]
        out = model(x[idx])
        main = out[0] if isinstance(out, tuple) else out
        loss = F.cross_entropy(main, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = np.mean(losses[:20]), np.mean(losses[-20:])
    assert np.isfinite(last)
    assert last < 0.7 * first, f"{name}: loss {first:.3f} → {last:.3f}"
