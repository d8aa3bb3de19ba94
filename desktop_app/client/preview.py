"""What a file looks like in the preview pane: text, JSON, a CSV table, an image or a message.

Reads a bounded number of bytes, never a large file whole, and decides by content first (magic
bytes, NUL bytes, UTF-8, JSON syntax) with the name's extension as a hint. Runs on a worker
thread: it touches the disk.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from desktop_app.client.units import format_size

PreviewKind = Literal["text", "json", "csv", "image", "binary", "too_large", "missing"]

SNIFF_BYTES = 8 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_CSV_ROWS = 200

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)
_CSV_DELIMITERS = {".csv": ",", ".tsv": "\t"}


@dataclass(frozen=True)
class Preview:
    """One file's preview; which fields are filled depends on ``kind``.

    ``text`` holds text and pretty-printed JSON (and the decoded start of a CSV), ``rows``
    the first :data:`MAX_CSV_ROWS` rows of a CSV, ``data`` an image's bytes and
    ``image_format`` its format; ``message`` says in plain English why there is nothing to
    show. ``truncated`` is set when only the first ``max_bytes`` of the file were read.
    """

    kind: PreviewKind
    name: str
    size: int = 0
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    data: bytes = b""
    image_format: str = ""
    message: str = ""
    truncated: bool = False


def image_format(head: bytes) -> str | None:
    """The image format whose magic bytes ``head`` starts with, or None."""
    for magic, fmt in _IMAGE_MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def looks_binary(head: bytes, *, complete: bool) -> bool:
    """Whether ``head`` holds NUL bytes or is not UTF-8 (a cut last character is allowed
    unless ``complete``)."""
    if b"\x00" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return True
    return False


def load_preview(
    path: Path,
    name: str,
    *,
    max_bytes: int = 1 << 20,
    max_image_bytes: int = MAX_IMAGE_BYTES,
) -> Preview:
    """The preview of the file at ``path``, shown under ``name`` (its path in the version).

    Reads at most ``max_bytes`` of a text file (``max_image_bytes`` of an image) and only
    the first 8 KiB of anything else.
    """
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            head = file.read(SNIFF_BYTES)
            fmt = image_format(head)
            if fmt is not None:
                if size > max_image_bytes:
                    return Preview(
                        "too_large",
                        name,
                        size,
                        message=f"{fmt.upper()} image, {format_size(size)}: too large to preview",
                    )
                data = head + file.read(max_image_bytes - len(head))
                return Preview("image", name, size, data=data, image_format=fmt)
            if looks_binary(head, complete=len(head) >= size):
                return Preview(
                    "binary", name, size, message=f"binary file, {format_size(size)}: no preview"
                )
            rest = file.read(max(max_bytes - len(head), 0)) if len(head) < max_bytes else b""
            raw = (head + rest)[:max_bytes]
    except FileNotFoundError:
        return Preview("missing", name, message=f"{name}: the file is not on this computer")
    except IsADirectoryError:
        return Preview("missing", name, message=f"{name}: is a folder, not a file")
    except OSError as exc:
        return Preview("missing", name, message=f"{name} could not be read: {exc.strerror}")
    truncated = len(raw) < size
    text = _decode(raw, truncated=truncated)
    return _text_preview(name, size, text, truncated)


def _decode(raw: bytes, *, truncated: bool) -> str:
    """UTF-8 text of ``raw``; a character cut at the end of a truncated read is dropped."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    return decoder.decode(raw, final=not truncated)


def _text_preview(name: str, size: int, text: str, truncated: bool) -> Preview:
    suffix = Path(name).suffix.lower()
    delimiter = _CSV_DELIMITERS.get(suffix)
    if delimiter is not None:
        rows = _csv_rows(text, delimiter, truncated=truncated)
        if rows is not None:
            return Preview("csv", name, size, text=text, rows=rows, truncated=truncated)
    stripped = text.lstrip()
    if not truncated and (stripped[:1] in ("{", "[") or suffix == ".json"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            pretty = json.dumps(value, indent=2, ensure_ascii=False)
            return Preview("json", name, size, text=pretty)
    return Preview("text", name, size, text=text, truncated=truncated)


def _csv_rows(text: str, delimiter: str, *, truncated: bool) -> list[list[str]] | None:
    """The first rows of ``text`` as CSV; None when it is not CSV."""
    if truncated:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut short
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            rows.append(row)
            if len(rows) >= MAX_CSV_ROWS:
                break
    except csv.Error:
        return None
    return rows
