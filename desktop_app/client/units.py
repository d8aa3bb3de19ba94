"""Human-readable byte sizes: parsing ``10GB`` / ``1.5 GiB`` and formatting them back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from desktop_app.core.errors import ValidationError

_SIZE_RE = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-z]*)\s*$", re.I)

_UNITS: dict[str, int] = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgt", start=1):
    _UNITS[f"{_letter}b"] = 1000**_power
    _UNITS[f"{_letter}ib"] = 1024**_power
    _UNITS[_letter] = 1024**_power

_EXAMPLES = "e.g. '10GB', '10 GiB', '512MB', '1.5G' or '100' (bytes)"


def parse_size(text: str) -> int:
    """Parse a size like ``10GB`` (1000-based), ``10 GiB`` or ``1.5G`` (1024-based) to bytes."""
    match = _SIZE_RE.match(text)
    unit = match.group("unit").lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValidationError(
            f"size {text!r} is not understood; write a number and a unit, {_EXAMPLES}"
        )
    try:
        value = Decimal(match.group("number")) * _UNITS[unit]
    except InvalidOperation as exc:  # pragma: no cover - the regex only admits decimals
        raise ValidationError(f"size {text!r} is not a number; {_EXAMPLES}") from exc
    return int(value)


def format_size(n: int) -> str:
    """Format a byte count with binary units, e.g. ``1.5 GiB`` or ``512 B``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return f"{text.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover
