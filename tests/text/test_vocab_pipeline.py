"""Vocabulary (<pad>=0, <unk>=1, min_freq, max_size, oov) and the serialised TextPipeline."""
import json

import pytest

from seqcnn.text import TextPipeline, Vocabulary


def test_vocabulary_reserves_pad_and_unk_and_orders_by_frequency():
    v = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]])
    assert v.itos == ["<pad>", "<unk>", "b", "a", "c"]
    assert v.encode(["a", "zzz"]) == [3, 1]
    assert v.encode(["a", "zzz"], oov="drop") == [3]
    with pytest.raises(ValueError, match="oov"):
        v.encode(["a"], oov="skip")


def test_min_freq_and_max_size():
    lists = [["a", "a", "a", "b", "b", "c"]]
    assert Vocabulary.build(lists, min_freq=2).itos[2:] == ["a", "b"]
    assert Vocabulary.build(lists, max_size=1).itos[2:] == ["a"]
    with pytest.raises(ValueError, match="min_freq"):
        Vocabulary.build(lists, min_freq=0)


def test_vocabulary_json_round_trip():
    v = Vocabulary.build([["x", "y"]])
    assert Vocabulary.from_dict(json.loads(json.dumps(v.to_dict()))) == v


def test_pipeline_round_trip_encodes_identically():
    pipe = TextPipeline("kim", oov="drop").fit(["Don't stop", "a great film"])
    again = TextPipeline.from_json(pipe.to_json())
    for text in ["Don't stop the film!", "", "unseen words only"]:
        assert again.encode(text).tolist() == pipe.encode(text).tolist()
    assert pipe.encode("unseen words only").tolist() == []


def test_unknown_only_text_maps_to_unk():
    pipe = TextPipeline().fit(["a b"])
    assert pipe.encode("zzz qqq").tolist() == [1, 1]
    ids, toks = pipe.encode_with_tokens("a zzz")
    assert ids.tolist() == [pipe.vocab.stoi["a"], 1] and toks == ["a", "zzz"]


def test_pipeline_rejects_non_strings():
    pipe = TextPipeline().fit(["a"])
    with pytest.raises(TypeError, match="texts"):
        pipe.transform("a single string")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        pipe.transform(["a", 3])
