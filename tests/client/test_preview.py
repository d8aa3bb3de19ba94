"""load_preview on real files: it decides by content, and reads a bounded number of bytes."""

from __future__ import annotations

import builtins
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from desktop_app.client import preview as preview_module
from desktop_app.client.preview import MAX_CSV_ROWS, SNIFF_BYTES, load_preview


def png_bytes(width: int = 2, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


class CountingOpen:
    """Stands in for ``open`` in the preview module and adds up the bytes read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        real = builtins.open(*args, **kwargs)  # noqa: SIM115 - the caller closes it
        counter = self
        original_read = real.read

        def read(n: int = -1) -> bytes:
            data: bytes = original_read(n)
            counter.bytes_read += len(data)
            return data

        real.read = read
        return real


@pytest.fixture
def counting_open(monkeypatch: pytest.MonkeyPatch) -> CountingOpen:
    counter = CountingOpen()
    monkeypatch.setattr(preview_module, "open", counter, raising=False)
    return counter


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("héllo\nwörld\n", encoding="utf-8")
    preview = load_preview(path, "notes/readme.txt")
    assert preview.kind == "text"
    assert preview.text == "héllo\nwörld\n"
    assert preview.name == "notes/readme.txt"
    assert preview.size == len("héllo\nwörld\n".encode())
    assert not preview.truncated


def test_json_is_pretty_printed_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text('{"b": [1, 2], "a": {"x": "ü"}}', encoding="utf-8")
    preview = load_preview(path, "config")  # no extension: the content decides
    assert preview.kind == "json"
    assert preview.text == json.dumps({"b": [1, 2], "a": {"x": "ü"}}, indent=2, ensure_ascii=False)


def test_a_json_name_with_text_that_is_not_json_is_text(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("{not json", encoding="utf-8")
    preview = load_preview(path, "broken.json")
    assert preview.kind == "text"
    assert preview.text == "{not json"


def test_csv_rows_are_parsed_with_quotes(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text('name,score\nalice,1\n"bob, jr.","line\nbreak"\n', encoding="utf-8")
    preview = load_preview(path, "data/scores.csv")
    assert preview.kind == "csv"
    assert preview.rows == [["name", "score"], ["alice", "1"], ["bob, jr.", "line\nbreak"]]


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    assert load_preview(path, "t.tsv").rows == [["a", "b"], ["1", "2"]]


def test_csv_keeps_only_the_first_rows(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("".join(f"{i},{i * i}\n" for i in range(1000)), encoding="utf-8")
    preview = load_preview(path, "squares.csv")
    assert preview.kind == "csv"
    assert len(preview.rows) == MAX_CSV_ROWS
    assert preview.rows[-1] == [str(MAX_CSV_ROWS - 1), str((MAX_CSV_ROWS - 1) ** 2)]


def test_a_truncated_csv_drops_the_cut_last_line(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_text("".join(f"{i},abcdefgh\n" for i in range(100)), encoding="utf-8")
    preview = load_preview(path, "cut.csv", max_bytes=115)  # 10 lines of 11 bytes and a bit
    assert preview.kind == "csv"
    assert preview.truncated
    assert preview.rows == [[str(i), "abcdefgh"] for i in range(10)]


def test_png_is_sniffed_by_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(png_bytes())
    preview = load_preview(path, "picture.txt")  # a misleading name: the content decides
    assert preview.kind == "image"
    assert preview.image_format == "png"
    assert preview.data == png_bytes()


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"BM\x1e\x00\x00\x00", "bmp"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
    ],
)
def test_other_image_formats_are_sniffed(tmp_path: Path, head: bytes, fmt: str) -> None:
    path = tmp_path / "blob"
    path.write_bytes(head + b"\x00" * 32)
    preview = load_preview(path, "image")
    assert (preview.kind, preview.image_format) == ("image", fmt)


def test_nul_bytes_make_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"abc\x00def" * 100)
    preview = load_preview(path, "notes.txt")  # the name says text, the content says binary
    assert preview.kind == "binary"
    assert preview.text == ""
    assert "700 B" in preview.message


def test_invalid_utf8_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"caf\xe9 au lait")  # Latin-1, not UTF-8
    assert load_preview(path, "menu.txt").kind == "binary"


def test_a_character_cut_by_the_sniff_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    text = "a" * (SNIFF_BYTES - 1) + "é" * 10  # the first "é" straddles the sniff boundary
    path.write_text(text, encoding="utf-8")
    preview = load_preview(path, "t.txt")
    assert preview.kind == "text"
    assert preview.text == text


def test_a_missing_file(tmp_path: Path) -> None:
    preview = load_preview(tmp_path / "nothing-here", "gone.txt")
    assert preview.kind == "missing"
    assert "gone.txt" in preview.message


def test_a_big_sparse_file_is_not_read_whole(tmp_path: Path, counting_open: CountingOpen) -> None:
    path = tmp_path / "blob"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024)
    preview = load_preview(path, "weights.bin")
    assert preview.kind in ("binary", "too_large")
    assert preview.size == 50 * 1024 * 1024
    assert "50 MiB" in preview.message
    assert 0 < counting_open.bytes_read <= SNIFF_BYTES


def test_a_big_text_file_is_read_up_to_max_bytes(
    tmp_path: Path, counting_open: CountingOpen
) -> None:
    path = tmp_path / "blob"
    line = "0123456789abcdef" * 4 + "\n"  # 65 bytes
    path.write_text(line * 80_000, encoding="utf-8")  # ~5 MB
    preview = load_preview(path, "train.log", max_bytes=64 * 1024)
    assert preview.kind == "text"
    assert preview.truncated
    assert preview.text == (line * 80_000)[: 64 * 1024]
    assert counting_open.bytes_read <= 64 * 1024


def test_a_big_json_file_is_shown_as_text_not_parsed_half(
    tmp_path: Path, counting_open: CountingOpen
) -> None:
    path = tmp_path / "blob"
    path.write_text(json.dumps({"values": list(range(100_000))}), encoding="utf-8")
    preview = load_preview(path, "values.json", max_bytes=10_000)
    assert preview.kind == "text"
    assert preview.truncated
    assert preview.text.startswith('{"values": [0, 1, 2')
    assert counting_open.bytes_read <= 10_000 + SNIFF_BYTES


def test_an_image_over_the_image_limit_is_too_large(
    tmp_path: Path, counting_open: CountingOpen
) -> None:
    path = tmp_path / "blob"
    with path.open("wb") as file:
        file.write(png_bytes())
        file.truncate(50 * 1024 * 1024)
    preview = load_preview(path, "huge.png")
    assert preview.kind == "too_large"
    assert preview.data == b""
    assert "50 MiB" in preview.message
    assert counting_open.bytes_read <= SNIFF_BYTES


def test_an_image_is_read_whole_within_the_limit(
    tmp_path: Path, counting_open: CountingOpen
) -> None:
    path = tmp_path / "blob"
    data = png_bytes() + b"\x00" * (3 * 1024 * 1024)  # bigger than max_bytes, under 20 MB
    path.write_bytes(data)
    preview = load_preview(path, "big.png")
    assert preview.kind == "image"
    assert preview.data == data
    assert counting_open.bytes_read == len(data)


def test_an_empty_file_is_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"")
    preview = load_preview(path, "empty.json")
    assert (preview.kind, preview.text) == ("text", "")
