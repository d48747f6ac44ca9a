"""Sentence classification with Kim-style CNNs: raw text → :class:`TextPipeline` (clean →
tokenize → ids) → embeddings → Conv1d n-gram filters → masked max-over-time → classifier.

Sources: Kim 2014 (KimCNN, the recipe, the cleaning regexes); Zhang, Zhao & LeCun 2015
(CharCNN); Johnson & Zhang 2017 (DPCNN); Zeiler 2012 (Adadelta). No torchtext, no vision.
"""
from .batching import BucketSampler, PadCollate, SequenceDataset, bucket_batches
from .ensemble import TextCNNEnsemble, load_text_model
from .estimator import TextCNNClassifier
from .io import read_dataset, read_folder, read_labeled_lines, read_table
from .models import CharCNN, DPCNN, KimCNN
from .optim import LazyAdadelta, lazy_adadelta
from .pipeline import PRESETS, TextPipeline
from .tokenize import (CallableTokenizer, CharTokenizer, KimTokenizer, SubwordTokenizer, WhitespaceTokenizer,
                       kim_clean, make_tokenizer)
from .vectors import KeyedVectors, build_embedding_matrix, load_vectors
from .vocab import Vocabulary

__all__ = [
    "TextCNNClassifier", "TextCNNEnsemble", "load_text_model", "read_labeled_lines", "read_table", "read_folder", "read_dataset", "load_vectors",
    "KeyedVectors", "build_embedding_matrix", "TextPipeline", "PRESETS", "Vocabulary", "KimCNN", "CharCNN",
    "DPCNN", "LazyAdadelta", "lazy_adadelta", "SequenceDataset", "PadCollate", "BucketSampler", "bucket_batches",
    "KimTokenizer", "WhitespaceTokenizer", "CharTokenizer", "SubwordTokenizer", "CallableTokenizer",
    "make_tokenizer", "kim_clean",
]
