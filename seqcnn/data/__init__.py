"""seqcnn.data — the one place that reads user data, for the estimators, the command line, the
baselines and ``seqcnn compare`` alike.

* text: :func:`read_labeled_lines` (``LABEL text`` and fastText ``__label__`` lines),
  :func:`read_table` (CSV/TSV/JSON lines), :func:`read_folder`, :func:`read_text_dataset`;
* series: :func:`read_ts`, :func:`read_ucr_tsv`, :func:`read_arff`, :func:`read_series_dataset`;
* images: :func:`load_image`, :func:`read_image_folder`, :func:`read_mnist_idx`,
  :func:`read_mnist_csv`, :func:`as_image_array`;
* one decoding policy (:func:`decode_bytes`, :func:`read_text_file`), one label check
  (:mod:`seqcnn.data.checks`), one error type (:class:`DataError`, ``"FILE:LINE: ..."``).

Importing this package loads NumPy only: no torch, Pillow, scikit-learn, nor any other seqcnn
module.
"""
from .checks import (check_label, check_label_kinds, check_labels, check_positive_int, check_series, check_strings,
                     check_text, is_string_input)
from .decode import decode_bytes, read_text_file, split_lines
from .errors import DataError, DecodingWarning, MissingExtraError
from .pretrained import SOURCES, ContextCache, cache_budget, import_transformers, load_frozen_bert, source_checksum, source_files
from .images import IMAGE_EXTENSIONS, as_image_array, load_image, read_image_folder, read_mnist_csv, read_mnist_idx
from .series import MISSING_POLICIES, read_arff, read_series_dataset, read_ts, read_ucr_tsv
from .text import read_folder, read_labeled_lines, read_table, read_text_dataset

__all__ = [
    "DataError", "DecodingWarning", "MissingExtraError", "decode_bytes",
    "SOURCES", "ContextCache", "cache_budget", "source_files", "source_checksum", "import_transformers", "load_frozen_bert", "read_text_file", "split_lines",
    "read_labeled_lines", "read_table", "read_folder", "read_text_dataset",
    "read_ts", "read_ucr_tsv", "read_arff", "read_series_dataset", "MISSING_POLICIES",
    "load_image", "read_image_folder", "read_mnist_idx", "read_mnist_csv", "as_image_array", "IMAGE_EXTENSIONS",
    "check_strings", "check_series", "check_labels", "check_positive_int", "is_string_input",
    "check_label", "check_text", "check_label_kinds",
]
