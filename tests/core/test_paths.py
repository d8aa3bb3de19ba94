"""Tests for manifest entry paths: portability rules, collisions and safe joins."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from desktop_app.core import paths as paths_module
from desktop_app.core.errors import ValidationError
from desktop_app.core.names import quoted
from desktop_app.core.paths import check_path_set, safe_join, validate_entry_path

SEGMENT_CHARS = st.sampled_from([*"abcdefghijklmnopqrstuvwxyz0123456789_-.éß中", "ü"])


@pytest.mark.parametrize(
    "path",
    [
        "a",
        "a/b/c.txt",
        "images/cat 1.png",
        ".hidden/file",
        "a/..b/c..d",
        "console.txt",
        "com10",
        "lpt0",
        "CONFIG/data",
        "中文/ファイル.json",
        "emoji/🙂.txt",
        "x" * 255,
        "é" * 127,
        "/".join(["d"] * 2048),
    ],
)
def test_valid_paths(path: str) -> None:
    assert validate_entry_path(path) == path


def test_decomposed_path_is_returned_nfc() -> None:
    decomposed = "cafe\u0301/re\u0301sume\u0301.txt"
    assert validate_entry_path(decomposed) == "café/résumé.txt"


@pytest.mark.parametrize(
    ("path", "shown", "rule"),
    [
        ("", "''", "empty"),
        ("/etc/passwd", "'/etc/passwd'", "absolute"),
        ("//server/share/x", "'//server/share/x'", "absolute"),
        ("\\\\server\\share", "server", "'\\'"),
        ("C:", "'C:'", "drive"),
        ("c:\\x", "c:", "'\\'"),
        ("C:x", "'C:x'", "drive"),
        ("d:/data", "'d:/data'", "drive"),
        ("a\\b", "a", "'\\'"),
        ("../a", "'..'", "'.' and '..'"),
        ("a/../b", "'..'", "'.' and '..'"),
        ("./a", "'.'", "'.' and '..'"),
        ("a/.", "'.'", "'.' and '..'"),
        ("a//b", "'a//b'", "empty segment"),
        ("a/", "'a/'", "empty segment"),
        ("a\x00b", "U+0000", "invisible"),
        ("a\nb", "U+000A", "invisible"),
        ("a\x1fb", "U+001F", "invisible"),
        ("a\x85b", "U+0085", "invisible"),
        ("a\u200bb", "ZERO WIDTH SPACE", "invisible"),
        ("\ufeffa", "U+FEFF", "invisible"),
        ("evil\u202etxt.exe", "U+202E", "invisible"),
        ("a\u2028b", "U+2028", "invisible"),
        ("a\u2029b", "U+2029", "invisible"),
        ("a\udcffb", "U+DCFF", "invisible"),
        ("CON", "'CON'", "device CON"),
        ("dir/con.txt", "'con.txt'", "device CON"),
        ("prn", "'prn'", "device PRN"),
        ("Aux.tar.gz", "'Aux.tar.gz'", "device AUX"),
        ("x/NUL", "'NUL'", "device NUL"),
        ("nul .txt", "'nul .txt'", "device NUL"),
        ("COM1", "'COM1'", "device COM1"),
        ("com9.log", "'com9.log'", "device COM9"),
        ("LPT1", "'LPT1'", "device LPT1"),
        ("lpt5.txt", "'lpt5.txt'", "device LPT5"),
        ("COM¹", "'COM¹'", "device COM¹"),
        ("a<b", "'a<b'", "'<'"),
        ("a>b", "'a>b'", "'>'"),
        ("a:b", "'a:b'", "drive"),
        ("x/a:b", "'a:b'", "':'"),
        ("a/.../b", "'...'", "trailing dot"),
        ('say"hi"', "'say\"hi\"'", "'\"'"),
        ("a|b", "'a|b'", "'|'"),
        ("what?", "'what?'", "'?'"),
        ("glob*", "'glob*'", "'*'"),
        ("dir./x", "'dir.'", "trailing dot or space"),
        ("x/file ", "'file '", "trailing dot or space"),
        ("x" * 256, "255", "UTF-8 bytes"),
        ("é" * 128, "256 UTF-8 bytes", "shorten"),
        ("/".join(["d"] * 2049), "4,097 characters", "4,096"),
    ],
)
def test_invalid_paths(path: str, shown: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_entry_path(path)
    message = str(info.value)
    assert quoted(path) in message, message
    assert shown in message, message
    assert rule in message, message


@pytest.mark.parametrize("value", [None, 3, b"a/b", Path("a/b")])
def test_non_string_paths(value: object) -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_entry_path(value)  # type: ignore[arg-type]


def test_reserved_name_error_suggests_a_fix() -> None:
    with pytest.raises(ValidationError, match=r"rename it, e\.g\. to 'con_\.txt'"):
        validate_entry_path("con.txt")


@pytest.mark.parametrize(
    ("paths", "shown"),
    [
        (["a.txt", "A.txt"], ["'a.txt'", "'A.txt'", "case-insensitive"]),
        (["data/x", "Data/x"], ["'data/x'", "'Data/x'", "macOS and Windows"]),
        (["Straße", "STRASSE"], ["'Straße'", "'STRASSE'"]),
        (["café", "cafe\u0301"], ["'caf\\xe9'", "'cafe\\u0301'"]),
        (["a", "a/b"], ["'a' is a file", "'a/b' needs a folder"]),
        (["A", "a/b"], ["'A' is a file", "'a/b'", "same name as 'a'"]),
        (["x/y", "x/Y/z", "x/a"], ["'x/y' is a file", "'x/Y/z'"]),
        (["a", "a-b", "a.c", "a/b"], ["'a' is a file", "'a/b'"]),
        (["dup", "dup"], ["'dup' appears twice"]),
    ],
)
def test_path_set_conflicts(paths: list[str], shown: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        check_path_set(paths)
    for text in shown:
        assert text in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "paths",
    [
        [],
        ["a"],
        ["a/b", "a/c", "b"],
        ["a-b", "a/b", "a.b", "a b"],
        ["ab/c", "a"],
        ["a/b/c", "a/b/d"],
    ],
)
def test_path_sets_without_conflicts(paths: list[str]) -> None:
    check_path_set(paths)


def test_many_conflicts_are_summarized() -> None:
    paths = [f"f{i}" for i in range(20)] + [f"F{i}" for i in range(20)]
    with pytest.raises(ValidationError, match=r"20 entry path conflicts: .*and 15 more"):
        check_path_set(paths)


def test_check_path_set_is_fast_on_100k_paths() -> None:
    paths = [f"dir{i % 300}/sub{i % 17}/file_{i}.bin" for i in range(100_000)]
    start = time.perf_counter()
    check_path_set(paths)
    assert time.perf_counter() - start < 1.0
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=r"'DIR5/sub5/file_5\.bin'"):
        check_path_set([*paths, "DIR5/sub5/file_5.bin"])
    assert time.perf_counter() - start < 1.0


def test_safe_join(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "a/b/c.txt") == tmp_path / "a" / "b" / "c.txt"
    assert safe_join(tmp_path, "cafe\u0301") == tmp_path / "café"
    for bad in ("../escape", "/abs", "a/../../b", "C:x"):
        with pytest.raises(ValidationError, match="entry path"):
            safe_join(tmp_path, bad)


segments = st.builds(
    str.__add__, st.sampled_from("abcdefghijklmnopqrstuvwxyz"), st.text(SEGMENT_CHARS, max_size=12)
).filter(lambda s: not s.endswith("."))
valid_paths = st.lists(segments, min_size=1, max_size=5).map("/".join)


def without_conflicts(paths: set[str]) -> list[str]:
    """Distinct lowercase paths, one per case fold, none inside another."""
    by_fold = {p.lower().casefold(): p.lower() for p in paths}
    return sorted(
        path for fold, path in by_fold.items() if not any(o.startswith(fold + "/") for o in by_fold)
    )


@given(st.text(max_size=60))
def test_accepted_paths_are_nfc_and_have_no_bad_segment(path: str) -> None:
    try:
        result = validate_entry_path(path)
    except ValidationError:
        return
    assert result == unicodedata.normalize("NFC", result)
    assert validate_entry_path(result) == result
    assert "\\" not in result
    assert not result.startswith("/")
    for segment in result.split("/"):
        assert segment not in ("", ".", "..")
        assert not any(char in segment for char in '<>:"|?*')
        assert not segment.endswith((".", " "))
        assert all(unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp") for char in segment)


# Paths built of the pieces where the quick check of plain paths and the full rules could
# part ways: dots, spaces, empty segments, device names, and characters that are refused.
_EDGE_PIECES = st.sampled_from(
    [
        *("a", "X", "0", "_", "-", ".", "..", " ", ".txt"),
        *("con", "NUL", "Aux", "prn", "com1", "LPT9", "conf"),
        *("é", ":", "\\", "\x00", "*"),
    ]
)
_EDGE_SEGMENTS = st.lists(_EDGE_PIECES, max_size=4).map("".join)


@given(
    st.one_of(
        st.lists(_EDGE_SEGMENTS, min_size=1, max_size=4).map("/".join),
        st.builds(
            lambda n, tail: "x" * n + tail,
            st.integers(250, 260),
            st.sampled_from(["", ".", "/y", "/"]),
        ),
    )
)
@settings(max_examples=500)
@example("NUL")
@example("nul.txt")
@example("a/COM1.tar")
@example("lpt9")
@example("Aux")
@example("prn.x")
@example("con")
@example("a.")
@example("a/b.")
@example("a ")
@example("a/./b")
@example("a/../b")
@example(".git")
@example("a//b")
@example("a/")
@example("x" * 255)
@example("x" * 256)
@example("a/" + "y" * 255 + "/b")
@example("-x_0.1")
def test_the_quick_check_of_plain_paths_agrees_with_the_full_rules(path: str) -> None:
    """validate_entry_path accepts plain ASCII paths by one regex; the full rules
    (``_validate_entry_path``, uncached here) must give the same answer on each."""
    full = paths_module._validate_entry_path.__wrapped__
    try:
        expected: str | None = full(path)
    except ValidationError:
        expected = None
    try:
        got: str | None = validate_entry_path(path)
    except ValidationError:
        got = None
    assert got == expected


def test_plain_paths_take_the_quick_check() -> None:
    """The paths of a folder walk of plain names never reach the full rules."""
    before = paths_module._validate_entry_path.cache_info().misses
    for index in range(50):
        validate_entry_path(f"quick-{index}/Sample_{index:05d}.tar.gz")
    assert paths_module._validate_entry_path.cache_info().misses == before


@given(st.text(st.characters(codec="utf-8"), max_size=30))
def test_rejections_name_the_path(path: str) -> None:
    try:
        validate_entry_path(path)
    except ValidationError as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        assert quoted(path) in problem


@given(st.sets(valid_paths, max_size=40))
def test_distinct_lowercase_paths_without_prefixes_pass(paths: set[str]) -> None:
    check_path_set(without_conflicts(paths))


@given(st.sets(valid_paths, min_size=1, max_size=40), st.data())
def test_adding_a_case_variant_always_raises(paths: set[str], data: st.DataObject) -> None:
    base = without_conflicts(paths)
    victim = data.draw(st.sampled_from(base))
    variant = victim.upper()
    with pytest.raises(ValidationError) as info:
        check_path_set([*base, variant])
    assert repr(variant) in str(info.value)
    assert repr(victim) in str(info.value)
