"""Classic baselines that take the same raw input as the seqcnn CNNs.

Naive Bayes (scikit-learn's, on the right features), NBSVM (Wang & Manning 2012), exact chunked
k-NN with Euclidean / cosine / Hamming / Levenshtein / DTW distances, kernel SVMs (vector,
precomputed and character p-gram string kernels) and featurisers, plus ``default_baselines``
per modality and ``model_size`` for reports. Depends only on scikit-learn, NumPy, SciPy, torch,
rapidfuzz (and ``seqcnn.engine.device`` for the device choice); ``SentenceEmbeddingClassifier``
(frozen pretrained sentence embeddings + logistic regression) needs the optional extra
``seqcnn[minilm]`` and imports ``transformers`` only when it first encodes;
``FastTextClassifier`` (supervised fastText) needs ``seqcnn[fasttext]`` and imports
``fasttext`` only when it first trains.
"""
from .defaults import MODALITIES, default_baselines, model_size
from .fasttext import FastTextClassifier
from .distances import dtw_distance, pairwise_dtw, pairwise_levenshtein
from .featurizers import ImageFeaturizer, SeriesFeaturizer, char_ngrams, word_ngrams
from .knn import KNNClassifier
from .nbsvm import NBSVM
from .sentence import SentenceEmbeddingClassifier
from .string_kernel import StringKernel, string_kernel
from .svm import KernelSVM

__all__ = [
    "NBSVM",
    "SentenceEmbeddingClassifier",
    "FastTextClassifier",
    "KNNClassifier",
    "KernelSVM",
    "StringKernel",
    "string_kernel",
    "default_baselines",
    "model_size",
    "MODALITIES",
    "SeriesFeaturizer",
    "ImageFeaturizer",
    "word_ngrams",
    "char_ngrams",
    "dtw_distance",
    "pairwise_dtw",
    "pairwise_levenshtein",
]
