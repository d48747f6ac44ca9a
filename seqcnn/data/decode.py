"""One decoding policy for every text-based reader.

* ``encoding=None``: UTF-8 first (a byte-order mark is stripped); a file with a UTF-16 byte-order
  mark is read as UTF-16; anything else that is not valid UTF-8 is read as Latin-1 (which decodes
  every byte) with a :class:`~seqcnn.data.errors.DecodingWarning` (a ``UserWarning``) that names
  the file and the first byte that is not UTF-8.
* Content that looks binary (a NUL byte, or mostly control bytes, in the first 8 KiB) is refused
  with a :class:`~seqcnn.data.errors.DataError` "looks like a binary file, not text", so a model
  file, an image or a gzip archive passed as text data never trains on noise.
* Lines are split on ``\\n``, ``\\r\\n`` and ``\\r`` only — never with :meth:`str.splitlines`,
  which also breaks on U+0085 (byte 0x85 decoded as Latin-1, present inside sentences of Kim's
  ``rt-polarity.all``), U+2028, U+2029, form feeds and friends.
"""
from __future__ import annotations

import codecs
import os
import re
import warnings
from pathlib import Path

from .errors import DataError, DecodingWarning

__all__ = ["decode_bytes", "read_text_file", "split_lines", "looks_binary", "check_file"]

_SNIFF = 8192
# bytes that never occur in text: C0 controls other than \t \n \v \f \r, ESC (0x1b) allowed for ANSI
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_MAGIC = ((b"\x1f\x8b", "gzip-compressed; decompress it first"), (b"PK\x03\x04", "a zip archive"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"%PDF", "a PDF document"),
          (b"\x93NUMPY", "a NumPy .npy file"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _where(path) -> str:
    return "input" if path is None else os.fspath(path)


def looks_binary(data: bytes) -> bool:
    """True when the first 8 KiB hold a NUL byte or more than 10 % non-text control bytes."""
    head = bytes(data[:_SNIFF])
    if not head:
        return False
    if b"\x00" in head:
        return True
    n_ctrl = len(head) - len(head.translate(None, _CONTROL))
    return n_ctrl > 0.1 * len(head)


def _binary_error(data: bytes, path) -> DataError:
    kind = next((what for magic, what in _MAGIC if data.startswith(magic)), None)
    hint = f" ({kind})" if kind else ""
    return DataError(f"looks like a binary file, not text{hint}", path)


def decode_bytes(data, encoding: str | None = None, *, path=None) -> str:
    """Decode a file's bytes to ``str`` with the policy of the module docstring.

    ``encoding`` forces a codec (no binary check, no fallback; an undecodable byte is a
    :class:`DataError` naming the file and the byte offset). ``path`` only names the source in
    warnings and errors.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"encoding={encoding!r} is not a known text encoding") from None
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"not valid {encoding} at byte {exc.start} ({exc.reason}); pass another "
                            f"encoding, or encoding=None to detect UTF-8 / Latin-1", path) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(codecs.BOM_UTF32_LE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _binary_error(data, path) from None
    if looks_binary(data):
        raise _binary_error(data, path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.warn(f"{_where(path)}: not valid UTF-8 at byte {exc.start}; read as Latin-1 "
                      f"(pass encoding=... to choose another)", DecodingWarning, stacklevel=3)
        return data.decode("latin-1")


def check_file(path, what: str = "path") -> Path:
    """``path`` as a :class:`Path` to an existing regular file: ``TypeError`` for a non-path,
    ``FileNotFoundError`` when missing, :class:`DataError` for a folder."""
    if isinstance(path, (bytes, bytearray)):
        raise TypeError(f"{what} must be a str or os.PathLike, got bytes")
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, got {type(path).__name__}") from None
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise DataError("is a folder, expected a file", p)
    return p


def read_text_file(path, encoding: str | None = None) -> str:
    """Read and decode a whole file (see :func:`decode_bytes`)."""
    p = check_file(path)
    return decode_bytes(p.read_bytes(), encoding, path=p)


def split_lines(text: str) -> list[str]:
    """Split on ``\\r\\n``, ``\\r`` and ``\\n`` only (never on U+0085, U+2028, ...). A final line
    break does not add an empty last line."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
