"""Tokenizers: golden tokens of Kim's cleaning, the others, serialisation."""
import pytest

from seqcnn.text import TextPipeline, kim_clean, make_tokenizer
from seqcnn.text.tokenize import tokenizer_from_config


@pytest.mark.parametrize("text, tokens", [
    ("Don't (really)!", ["do", "n't", "(", "really", ")", "!"]),
    ("It's what they've said, isn't it?", ["it", "'s", "what", "they", "'ve", "said", ",", "is", "n't", "it", "?"]),
    ("We'd go; you'll see & they're off.", ["we", "'d", "go", "you", "'ll", "see", "they", "'re", "off"]),
    ("See http://www.example.com/a-b?x=1 now", ["see", "http", "www", "example", "com", "a", "b", "?", "x", "1", "now"]),
    ("Rated 3.5/10 by 1,000 fans", ["rated", "3", "5", "10", "by", "1", ",", "000", "fans"]),
    ("Crème brûlée — naïve café", ["cr", "me", "br", "l", "e", "na", "ve", "caf"]),
    ("  ", []),
    ("", []),
])
def test_kim_tokenizer_golden_tokens(text, tokens):
    assert make_tokenizer("kim")(text) == tokens


def test_kim_tokenizer_keeps_case_for_trec():
    assert make_tokenizer("kim", lowercase=False)("What is NASA ?") == ["What", "is", "NASA", "?"]
    assert TextPipeline.from_preset("trec").tokenize("Who is Galileo ?") == ["Who", "is", "Galileo", "?"]
    assert kim_clean("A,B") == "a , b"


def test_whitespace_and_char_tokenizers():
    assert make_tokenizer("whitespace")("wo n't  Go\tnow") == ["wo", "n't", "Go", "now"]
    assert make_tokenizer("char")("Ab c") == ["a", "b", " ", "c"]


@pytest.mark.parametrize("kind", ["wordpiece", "bpe"])
def test_subword_tokenizer_trains_and_survives_json(kind):
    texts = ["the unbelievable movie", "believable stories", "the movies were unbelievably good"] * 5
    tok = make_tokenizer(kind, vocab_size=60)
    tok.fit(texts)
    pieces = tok("unbelievable movies")
    assert pieces and all(isinstance(p, str) for p in pieces)
    again = tokenizer_from_config(tok.to_config())
    assert again("unbelievable movies") == pieces


def tokenize_upper(text):
    return text.upper().split()


def test_callable_tokenizer_saves_by_name_and_lambdas_refuse():
    tok = make_tokenizer(tokenize_upper)
    assert tok("a b") == ["A", "B"]
    cfg = tok.to_config()
    assert cfg["target"].endswith(":tokenize_upper")
    assert tokenizer_from_config(cfg, callables={cfg["target"]: tokenize_upper})("c d") == ["C", "D"]
    with pytest.raises(ValueError, match="cannot be saved"):
        make_tokenizer(lambda s: s.split()).to_config()


def test_unknown_tokenizer_name_raises():
    with pytest.raises(ValueError, match="tokenizer"):
        make_tokenizer("spacy")
    with pytest.raises(TypeError, match="tokenizer"):
        make_tokenizer(3)


def test_a_saved_callable_is_never_imported_from_the_config():
    # a tampered artifact naming os:system must not get that function called on the input
    with pytest.raises(ValueError, match="not imported from the artifact"):
        tokenizer_from_config({"kind": "callable", "target": "os:system"})
    with pytest.raises(ValueError, match="not imported"):
        tokenizer_from_config({"kind": "callable", "target": "os:system"},
                              callables={"tests.text.test_tokenize:tokenize_upper": tokenize_upper})
