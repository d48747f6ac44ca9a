"""The text networks in the one model registry (:mod:`seqcnn.engine.registry`, modality
``"text"``): ``kim`` (:class:`~seqcnn.text.models.KimCNN`), ``char``
(:class:`~seqcnn.text.models.CharCNN`) and ``dpcnn`` (:class:`~seqcnn.text.models.DPCNN`).

Every builder takes ``vocab_size`` and ``num_classes`` and the text settings that apply to it,
under the estimator's names (``num_filters``, ``mode``, ``dropout``, ...), so that
:class:`~seqcnn.text.estimator.TextCNNClassifier` builds each architecture the same way
(:func:`build_text_module`).

Outer interface: ``forward_features(ids)`` → the map before global pooling (N, C, L'),
``forward_head(x, pre_logits=False)`` → pooling and classifier. CharCNN's map is its last conv
stage (its head flattens it into two FC layers). Kim's CNN and DPCNN pool by masked
max-over-time: their maps hold −inf at windows of padding only (Kim's stacks the banks of every
width, the shorter ones padded with −inf), so the head's plain max is the masked one; their
``forward`` keeps the fused path (``KimCNN.pooled_features``).
"""
from __future__ import annotations

from seqcnn.engine.registry import create_model, register_model, routed_kwargs

from .models import CharCNN, DPCNN, KimCNN

__all__ = ["kim", "char", "dpcnn", "build_text_module"]


@register_model(modality="text")
def kim(vocab_size: int, num_classes: int, *, embedding_dim: int = 300, filter_sizes=(3, 4, 5),
        num_filters: int = 100, dropout: float = 0.5, mode: str = "rand", pretrained=None, fused: bool = False,
        sparse: bool = False, dropout_scaling: str = "train") -> KimCNN:
    """Kim (2014)'s sentence CNN: filter widths (3, 4, 5) × 100 maps, max-over-time, dropout 0.5."""
    return KimCNN(vocab_size, num_classes, embedding_dim=embedding_dim, filter_sizes=filter_sizes,
                  num_filters=num_filters, dropout=dropout, mode=mode, pretrained=pretrained, fused=fused,
                  sparse=sparse, dropout_scaling=dropout_scaling)


@register_model(modality="text")
def char(vocab_size: int, num_classes: int, *, input_length: int = 1014, num_filters: int = 256,
         fc_dim: int = 1024, dropout: float = 0.5, dropout_scaling: str = "train") -> CharCNN:
    """Zhang, Zhao & LeCun (2015)'s character CNN, small configuration (``num_filters`` maps)."""
    return CharCNN(vocab_size, num_classes, input_length=input_length, num_features=num_filters, fc_dim=fc_dim,
                   dropout=dropout, dropout_scaling=dropout_scaling)


@register_model(modality="text")
def dpcnn(vocab_size: int, num_classes: int, *, embedding_dim: int = 300, num_filters: int = 250,
          num_blocks: int = 6, dropout: float = 0.5, mode: str = "rand", pretrained=None, sparse: bool = False,
          dropout_scaling: str = "train") -> DPCNN:
    """Johnson & Zhang (2017)'s deep pyramid CNN; ``mode="static"`` freezes the embeddings."""
    return DPCNN(vocab_size, num_classes, embedding_dim=embedding_dim, num_filters=num_filters,
                 num_blocks=num_blocks, dropout=dropout, pretrained=pretrained, freeze_embedding=mode == "static",
                 sparse=sparse, dropout_scaling=dropout_scaling)


def build_text_module(est, n_classes: int, filter_sizes, pretrained):
    """The network of a :class:`~seqcnn.text.estimator.TextCNNClassifier` ``est`` (fitted
    vocabulary and embedding size set): its architecture settings routed to the ``est.arch``
    builder (each passed where the builder takes it), then ``est.model_kwargs`` when it has one."""
    settings = dict(vocab_size=est.vocab_size_, num_classes=n_classes, embedding_dim=est.embedding_dim_,
                    filter_sizes=filter_sizes, num_filters=int(est.num_filters), dropout=float(est.dropout),
                    mode=est.mode, pretrained=pretrained, fused=bool(est.fused), sparse=est._sparse(),
                    dropout_scaling=est._dropout_scaling(), input_length=int(est.char_length),
                    num_blocks=int(est.dpcnn_blocks))
    return create_model(est.arch, **routed_kwargs(est.arch, settings, getattr(est, "model_kwargs", None)))
