"""KimCNN / CharCNN / DPCNN behaviour: short inputs, padding never wins, embedding modes."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from seqcnn.text import CharCNN, DPCNN, KimCNN, LazyAdadelta, PadCollate


def _kim(**kw):
    torch.manual_seed(0)
    m = KimCNN(30, 3, embedding_dim=8, num_filters=5, **kw)
    torch.nn.init.normal_(m.fc.weight)  # Kim zero-initialises the output layer; make logits informative
    return m.eval()


@pytest.mark.parametrize("widths", [(3, 4, 5), (7,)])
@pytest.mark.parametrize("length", [0, 1, 2])
def test_short_inputs_give_valid_outputs(widths, length):
    m = _kim(filter_sizes=widths)
    ids = torch.randint(2, 30, (2, length))
    for batch in (ids, PadCollate(left=max(widths) - 1, right=max(widths) - 1, min_len=max(widths))(
            [(s.numpy(),) for s in ids])[0][0]):
        p = torch.softmax(m(batch), 1)
        assert p.shape == (2, 3) and torch.all(torch.isfinite(p)) and torch.allclose(p.sum(1), torch.ones(2))


@pytest.mark.parametrize("fused", [True, False])
def test_logits_equal_alone_and_batched_with_a_ten_times_longer_sentence(fused):
    m = _kim(fused=fused)
    collate = PadCollate(left=4, right=4, min_len=5)
    short = torch.randint(2, 30, (4,)).numpy()
    long = torch.randint(2, 30, (40,)).numpy()
    (alone,), _ = collate([(short,)])
    (both,), _ = collate([(short,), (long,)])
    torch.testing.assert_close(m(alone)[0], m(both)[0], atol=1e-6, rtol=0)


def test_padding_never_wins_max_over_time_and_all_pad_pools_to_zero():
    m = _kim()
    with torch.no_grad():
        for conv in m.convs:
            conv.bias.fill_(100.0)  # pad windows would score 100 if they were not masked
    ids = torch.tensor([[0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]])
    feats = m.pooled_features(ids)
    ref = torch.cat([F.relu(conv(m.embed(ids)))[:, :, 2:5].max(2).values if w == 3 else
                     F.relu(conv(m.embed(ids)))[:, :, 4 - w + 1:5].max(2).values
                     for conv, w in zip(m.convs, m.filter_sizes)], 1)
    torch.testing.assert_close(feats, ref)
    assert torch.all(m.pooled_features(torch.zeros(2, 9, dtype=torch.long)) == 0)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
def test_fused_gemm_equals_conv1d_banks(length, widths):
    torch.manual_seed(length)
    m = KimCNN(20, 2, embedding_dim=6, num_filters=3, filter_sizes=widths).eval()
    ids = torch.randint(0, 20, (3, length + 2 * max(widths)))
    fused = [h for h, _ in m.feature_maps(ids)]
    m.fused = False
    ref = [h for h, _ in m.feature_maps(ids)]
    for a, b in zip(fused, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def _one_step(m, sparse):
    params = [p for p in m.parameters() if p.requires_grad]
    opt = LazyAdadelta(params) if sparse else torch.optim.Adadelta(params, lr=1.0)
    m.train()
    ids = torch.tensor([[0, 0, 3, 4, 5, 6, 0, 0], [0, 0, 7, 8, 0, 0, 0, 0]])
    loss = F.cross_entropy(m(ids), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()


@pytest.mark.parametrize("sparse", [True, False])
def test_static_frozen_nonstatic_trained_and_pad_row_stays_zero(sparse):
    pre = torch.randn(30, 8)
    static = KimCNN(30, 2, embedding_dim=8, num_filters=4, mode="static", pretrained=pre, sparse=sparse)
    before = static.embedding.weight.detach().clone()
    _one_step(static, sparse)
    assert torch.equal(static.embedding.weight, before)  # bit-identical
    nonstatic = KimCNN(30, 2, embedding_dim=8, num_filters=4, mode="non-static", pretrained=pre, sparse=sparse)
    torch.nn.init.normal_(nonstatic.fc.weight)
    before = nonstatic.embedding.weight.detach().clone()
    _one_step(nonstatic, sparse)
    changed = (nonstatic.embedding.weight != before).any(1)
    assert changed[[3, 4, 5, 6, 7, 8]].any() and not changed[9:].any() and not changed[[1, 2]].any()
    assert torch.all(nonstatic.embedding.weight[0] == 0)


def test_multichannel_has_one_frozen_and_one_trained_copy_of_the_same_matrix():
    pre = torch.randn(30, 8)
    m = KimCNN(30, 2, embedding_dim=8, num_filters=4, mode="multichannel", pretrained=pre)
    torch.nn.init.normal_(m.fc.weight)
    assert torch.equal(m.embedding.weight, m.static_embedding.weight)
    assert m.convs[0].in_channels == 16  # each filter spans both channels
    frozen = m.static_embedding.weight.detach().clone()
    _one_step(m, True)
    assert torch.equal(m.static_embedding.weight, frozen)
    assert not torch.equal(m.embedding.weight, frozen)
    assert torch.all(m.embedding.weight[0] == 0) and torch.all(m.static_embedding.weight[0] == 0)


def test_max_over_time_is_a_max_not_an_average():
    m = _kim(filter_sizes=(1,))
    ids = torch.tensor([[0, 3, 4, 5, 0]])
    h = F.relu(m.convs[0](m.embed(ids)))[:, :, 1:4]
    torch.testing.assert_close(m.pooled_features(ids), h.max(2).values)


def test_charcnn_takes_any_length_and_rejects_too_short_configs():
    m = CharCNN(40, 3, input_length=150, num_features=8, fc_dim=16).eval()
    for length in (0, 1, 150, 400):
        assert m(torch.randint(0, 40, (2, length))).shape == (2, 3)
    with pytest.raises(ValueError, match="input_length"):
        CharCNN(40, 3, input_length=100)


def test_dpcnn_logits_do_not_depend_on_the_batch():
    torch.manual_seed(0)
    m = DPCNN(30, 2, embedding_dim=8, num_filters=6, num_blocks=4).eval()
    short = torch.randint(2, 30, (1, 5))
    both = torch.zeros(2, 50, dtype=torch.long)
    both[0, :5] = short
    both[1] = torch.randint(2, 30, (50,))
    torch.testing.assert_close(m(short)[0], m(both)[0], atol=1e-5, rtol=0)
    assert torch.isfinite(m(torch.zeros(1, 1, dtype=torch.long))).all()


def test_bad_ids_raise():
    with pytest.raises(ValueError, match="ids"):
        _kim()(torch.randn(2, 5))
    with pytest.raises(ValueError, match="mode"):
        KimCNN(10, 2, mode="dynamic")


def test_fused_inference_in_sub_batches_equals_one_pass():
    m = _kim(fused=True)
    m.inference_chunk_elements = 500  # force sub-batches of a few rows
    ids = torch.randint(0, 30, (23, 17))
    with torch.no_grad():
        chunked = m(ids)
        whole = m.forward_head(m.forward_features(ids))
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=0)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True), st.booleans())
def test_fused_no_grad_inference_path_equals_conv1d_banks(length, widths, multichannel):
    """The in-place inference path (no autograd) computes the same maps and pooled features."""
    torch.manual_seed(length)
    m = KimCNN(20, 2, embedding_dim=6, num_filters=3, filter_sizes=widths, fused=True,
               mode="multichannel" if multichannel else "rand").eval()
    with torch.no_grad():
        for conv in m.convs:
            conv.bias.uniform_(-1, 1)  # pad-only windows score relu(bias) unless masked
    ids = torch.randint(0, 20, (3, length + 2 * max(widths)))
    ids[0] = 0  # an all-pad row pools to 0
    ids[1, : max(widths)] = 0
    with torch.no_grad():
        maps = [h.clone() for h, _ in m.feature_maps(ids)]
        feats = m.pooled_features(ids)
        logits = m(ids)
    ref_feats = m.pooled_features(ids).detach()  # grad mode: autograd path
    m.fused = False
    with torch.no_grad():
        ref_maps = [h for h, _ in m.feature_maps(ids)]
    for a, b in zip(maps, ref_maps):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(feats, ref_feats, atol=1e-5, rtol=1e-5)
    assert torch.all(feats[0] == 0)
    torch.testing.assert_close(logits, m.fc(ref_feats), atol=1e-5, rtol=1e-5)


def test_fused_weight_cache_follows_in_place_updates_and_state_dict_loads():
    m = _kim(fused=True).eval()
    ids = torch.randint(2, 30, (2, 12))
    with torch.no_grad():
        before = m.pooled_features(ids).clone()
        for conv in m.convs:
            conv.weight.mul_(2.0)  # an optimiser-like in-place update
        doubled = m.pooled_features(ids).clone()
    assert not torch.allclose(before, doubled)
    m.fused = False
    with torch.no_grad():
        torch.testing.assert_close(doubled, m.pooled_features(ids), atol=1e-5, rtol=1e-5)
    other = _kim(fused=True).eval()
    with torch.no_grad():
        other.pooled_features(ids)  # fills other's cache with its own weights
        other.load_state_dict(m.state_dict())
        torch.testing.assert_close(other.pooled_features(ids), doubled, atol=1e-5, rtol=1e-5)


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 10), st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True),
       st.sampled_from(["rand", "multichannel"]), st.integers(0, 3))
def test_fused_training_path_has_the_gradients_of_conv1d_banks(length, widths, mode, left_pad):
    """The sparse backward of the fused bank (one window per pooled feature) equals autograd
    through Conv1d → ReLU → masked max-over-time, for every parameter."""
    torch.manual_seed(length * 7 + left_pad)
    ref = KimCNN(25, 3, embedding_dim=5, num_filters=4, filter_sizes=widths, mode=mode, dropout=0.0)
    with torch.no_grad():
        ref.fc.weight.normal_()
        for conv in ref.convs:
            conv.bias.uniform_(-0.5, 0.5)  # some windows clamp to 0, pad-only windows score relu(b)
    fused = KimCNN(25, 3, embedding_dim=5, num_filters=4, filter_sizes=widths, mode=mode, dropout=0.0, fused=True)
    fused.load_state_dict(ref.state_dict())
    ids = torch.randint(1, 25, (4, left_pad + length + max(widths)))
    ids[:, :left_pad] = 0
    ids[0] = 0  # all padding
    ids[1, left_pad + 1:] = 0  # one token
    y = torch.tensor([0, 1, 2, 1])
    for m in (ref, fused):
        m.train()
        F.cross_entropy(m(ids), y).backward()
    for (name, a), (_, b) in zip(ref.named_parameters(), fused.named_parameters()):
        if a.grad is None:
            assert b.grad is None, name
            continue
        torch.testing.assert_close(b.grad, a.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("optimizer", ["lazy-adadelta", "adadelta", "adam"])
def test_evaluation_after_an_optimiser_step_uses_the_new_weights(optimizer):
    """Validation runs under no_grad with the cached tap matrix: it must see every update."""
    torch.manual_seed(0)
    m = KimCNN(30, 2, embedding_dim=8, num_filters=4, fused=True, sparse=optimizer == "lazy-adadelta")
    params = [p for p in m.parameters() if p.requires_grad]
    opt = {"lazy-adadelta": lambda: LazyAdadelta(params), "adadelta": lambda: torch.optim.Adadelta(params),
           "adam": lambda: torch.optim.Adam(params, lr=0.01)}[optimizer]()
    ids = torch.randint(1, 30, (4, 10))
    for _ in range(2):
        m.train()
        F.cross_entropy(m(ids), torch.tensor([0, 1, 0, 1])).backward()
        opt.step()
        opt.zero_grad()
        m.eval()
        with torch.no_grad():
            cached = m(ids)
            m.fused = False
            reference = m(ids)
            m.fused = True
        torch.testing.assert_close(cached, reference, atol=1e-6, rtol=1e-5)


def test_kim_dropout_scaled_at_test_time_is_kims_form():
    from seqcnn.engine.layers import WeightScalingDropout

    inv, kim = _kim(), _kim(dropout_scaling="test")
    assert isinstance(kim.dropout, WeightScalingDropout) and isinstance(inv.dropout, torch.nn.Dropout)
    ids = torch.randint(2, 30, (3, 9))
    feats = kim.pooled_features(ids)
    # evaluation: features × (1 − p) before the output layer; the inverted form leaves them alone
    torch.testing.assert_close(kim(ids), kim.fc(0.5 * feats))
    torch.testing.assert_close(inv(ids), inv.fc(inv.pooled_features(ids)))
    kim.train()
    pre = kim.forward_head(kim.forward_features(ids), pre_logits=True)
    kept = pre != 0
    torch.testing.assert_close(pre[kept], feats[kept])  # training: kept features are not rescaled


def test_char_and_dpcnn_take_the_dropout_form_too():
    from seqcnn.engine.layers import WeightScalingDropout

    c = CharCNN(10, 2, input_length=150, num_features=8, fc_dim=16, dropout_scaling="test")
    assert sum(isinstance(m, WeightScalingDropout) for m in c.modules()) == 2
    d = DPCNN(30, 2, embedding_dim=8, num_filters=6, num_blocks=1, dropout_scaling="test")
    assert isinstance(d.dropout, WeightScalingDropout)
    with pytest.raises(ValueError, match="scaling"):
        KimCNN(30, 2, embedding_dim=8, num_filters=4, dropout_scaling="inverted")
