import pytest

from desktop_app.client.units import format_size, parse_size
from desktop_app.core.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10GB", 10 * 1000**3),
        ("10 GiB", 10 * 1024**3),
        ("512MB", 512 * 1000**2),
        ("512mb", 512 * 1000**2),
        ("1.5G", int(1.5 * 1024**3)),
        ("100", 100),
        ("100 B", 100),
        ("0", 0),
        ("2k", 2048),
        ("2 KB", 2000),
        ("1TiB", 1024**4),
        ("1tb", 1000**4),
        (" 3 MiB ", 3 * 1024**2),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GB", "-1", "10 XB", "1e9", "ten", "1.2.3G"])
def test_parse_size_rejects_nonsense_with_examples(text: str) -> None:
    with pytest.raises(ValidationError, match="10GB"):
        parse_size(text)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1024, "1 KiB"),
        (int(1.5 * 1024**3), "1.5 GiB"),
        (20 * 1024**3, "20 GiB"),
        (300 * 1024**2, "300 MiB"),
    ],
)
def test_format_size(n: int, text: str) -> None:
    assert format_size(n) == text
