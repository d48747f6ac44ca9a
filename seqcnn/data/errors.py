"""The errors every layer shares: :class:`DataError` (the one error type of the data layer, a
``ValueError`` that names the file and, when it is known, the 1-based line of the problem) and
:class:`MissingExtraError` (an optional extra is not installed)."""
from __future__ import annotations

import os

__all__ = ["DataError", "DecodingWarning", "MissingExtraError"]


class DataError(ValueError):
    """Bad content in a user's data file.

    ``str(err)`` is ``"FILE:LINE: what is wrong"`` (``"FILE: what is wrong"`` when no line applies,
    just ``"what is wrong"`` when no file does), the layout compilers and ``grep -n`` use, so an
    editor can jump to the line. Attributes: ``path`` (str or None), ``line`` (1-based int or
    None), ``reason`` (the message without the location).
    """

    def __init__(self, reason: str, path=None, line: int | None = None):
        self.reason = str(reason)
        self.path = None if path is None else os.fspath(path)
        if isinstance(self.path, bytes):
            self.path = os.fsdecode(self.path)
        self.line = None if line is None else int(line)
        super().__init__(self._format())

    def _format(self) -> str:
        if self.path is None:
            return self.reason if self.line is None else f"line {self.line}: {self.reason}"
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"

    def __reduce__(self):  # picklable across joblib workers with its attributes
        return (type(self), (self.reason, self.path, self.line))


class DecodingWarning(UserWarning):
    """A file was not valid UTF-8 and was read as Latin-1 (the warning names the file and byte)."""


class MissingExtraError(ImportError, ValueError):
    """An optional extra is not installed; the message names the ``pip install "seqcnn[EXTRA]"``
    command. The one class: ``seqcnn.text.vectors``, ``seqcnn.compare.backend`` and the
    baselines re-export it under their own module names."""
