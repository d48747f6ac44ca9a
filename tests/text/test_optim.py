"""Lazy Adadelta equals dense torch.optim.Adadelta (hypothesis over touched-row patterns)."""
import torch
from hypothesis import given, settings, strategies as st

from seqcnn.text import LazyAdadelta


def _run(sparse, steps, seed, rows=30, dim=6):
    torch.manual_seed(seed)
    emb = torch.nn.Embedding(rows, dim, padding_idx=0, sparse=sparse)
    lin = torch.nn.Linear(dim, 3)
    params = list(emb.parameters()) + list(lin.parameters())
    opt = (LazyAdadelta(params, lr=1.0, rho=0.95, eps=1e-6) if sparse
           else torch.optim.Adadelta(params, lr=1.0, rho=0.95, eps=1e-6))
    for idx in steps:
        opt.zero_grad()
        out = lin(emb(torch.tensor(idx)).mean(1))
        out.pow(2).sum().backward()
        opt.step()
    return emb.weight.detach(), lin.weight.detach(), opt


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(0, 29), min_size=3, max_size=3), min_size=1, max_size=4),
                min_size=2, max_size=12), st.integers(0, 1000))
def test_lazy_adadelta_matches_dense_adadelta(steps, seed):
    e_lazy, w_lazy, opt = _run(True, steps, seed)
    e_dense, w_dense, dense = _run(False, steps, seed)
    torch.testing.assert_close(e_lazy, e_dense, atol=1e-6, rtol=0)
    torch.testing.assert_close(w_lazy, w_dense, atol=1e-6, rtol=0)
    # after bringing every row up to date, the running averages agree too
    opt.flush()
    p_lazy = opt.param_groups[0]["params"][0]
    p_dense = dense.param_groups[0]["params"][0]
    torch.testing.assert_close(opt.state[p_lazy]["square_avg"], dense.state[p_dense]["square_avg"],
                               atol=1e-6, rtol=1e-5)
    assert torch.all(e_lazy[0] == 0)  # the padding row never moves


def test_lazy_adadelta_touches_only_rows_in_the_batch():
    e0, _, _ = _run(True, [], 0)
    e1, _, _ = _run(True, [[[1, 2, 3]]], 0)
    changed = (e0 != e1).any(dim=1).nonzero().flatten().tolist()
    assert changed == [1, 2, 3]
