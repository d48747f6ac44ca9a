"""Readers for labelled text — kept under their old names; the code lives in
:mod:`seqcnn.data` (the one data layer): ``LABEL sentence`` and fastText lines, CSV/TSV/JSON-lines
tables, class folders, and the decoding policy (UTF-8, else Latin-1 with a warning; lines split
on ``\\n``/``\\r\\n``/``\\r`` only, never on U+0085).

``read_dataset`` is :func:`seqcnn.data.read_text_dataset`.
"""
from seqcnn.data.decode import decode_bytes
from seqcnn.data.text import read_folder, read_labeled_lines, read_table, read_text_dataset

read_dataset = read_text_dataset

__all__ = ["read_labeled_lines", "read_table", "read_folder", "read_dataset", "decode_bytes"]
