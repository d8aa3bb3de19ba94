"""Rules for artifact names, projects, types, aliases, tags and descriptions.

Every validator returns its input unchanged when it is acceptable and raises
:class:`~desktop_app.core.errors.ValidationError` with a message that names the bad
value and the rule otherwise.
"""

from __future__ import annotations

import re
import unicodedata

from desktop_app.core.errors import ValidationError

MAX_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 65_536
RESERVED_TYPE_PREFIX = "wandb-"
LATEST = "latest"

_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]+")
_VERSION_FORM_RE = re.compile(r"v\d+")
_TAG_RE = re.compile(r"[-\w]+(?: +[-\w]+)*")
# Control, invisible format, surrogate (not encodable as UTF-8), line and paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ASCII_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")
_NON_ASCII_RE = re.compile("[^\x00-\x7f]")
_SHOWN_CHARS = 160


def quoted(value: object) -> str:
    """``repr`` of ``value`` for an error message, shortened when it is very long."""
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return f"{value[:_SHOWN_CHARS]!r}... ({len(value):,} characters)"
    return repr(value)


def first_invisible_char(text: str) -> str | None:
    """A control, invisible-format, surrogate or separator character in ``text``, if any."""
    match = _ASCII_CONTROL_RE.search(text)
    if match is not None:
        return match.group()
    if text.isascii():
        return None
    non_ascii: list[str] = _NON_ASCII_RE.findall(text)
    for char in non_ascii:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return char
    return None


def char_label(char: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``: a readable name for an invisible character."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, not {type(value).__name__} {value!r}")
    return value


def _check_name_like(value: object, what: str) -> str:
    text = _require_str(value, what)
    if not text:
        raise ValidationError(f"{what} '' is empty; give it 1 to {MAX_NAME_LENGTH} characters")
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{what} {quoted(text)} is {len(text)} characters long; "
            f"shorten it to at most {MAX_NAME_LENGTH}"
        )
    if not _NAME_RE.fullmatch(text):
        raise ValidationError(
            f"{what} {quoted(text)} may only contain letters, digits, '-', '_' and '.'"
        )
    return text


def validate_artifact_name(name: str) -> str:
    """An artifact name: 1-128 ASCII letters, digits, ``_``, ``-``, ``.``; not ``.``/``..``."""
    _check_name_like(name, "artifact name")
    if name in (".", ".."):
        raise ValidationError(
            f"artifact name {name!r} is reserved for folders; use a name with a letter or digit"
        )
    return name


def validate_project(project: str) -> str:
    """A project, ``project`` or ``entity/project``; each part follows the name rules."""
    text = _require_str(project, "project")
    parts = text.split("/")
    if len(parts) > 2:
        raise ValidationError(
            f"project {quoted(text)} has {len(parts) - 1} '/'; write 'project' or 'entity/project'"
        )
    labels = ("entity", "project") if len(parts) == 2 else ("project",)
    for label, part in zip(labels, parts, strict=True):
        try:
            validate_artifact_name(part)
        except ValidationError as exc:
            message = str(exc).replace("artifact name", label, 1)
            if len(parts) == 2:
                message = f"in project {quoted(text)}: {message}"
            raise ValidationError(message) from None
    return text


def validate_type(type_: str) -> str:
    """An artifact type such as ``dataset``; types starting ``wandb-`` are reserved."""
    _check_name_like(type_, "artifact type")
    if type_.startswith(RESERVED_TYPE_PREFIX):
        raise ValidationError(
            f"artifact type {type_!r} starts with {RESERVED_TYPE_PREFIX!r}, which is reserved "
            "for W&B's internal types; choose another type such as 'dataset' or 'model'"
        )
    return type_


def validate_alias(alias: str) -> str:
    """An alias such as ``best`` or ``latest``: 1-128 visible characters, no ``/`` or ``:``.

    ``vN`` forms are rejected because they name version numbers, not aliases.
    """
    text = _require_str(alias, "alias")
    if not text:
        raise ValidationError(f"alias '' is empty; give it 1 to {MAX_NAME_LENGTH} characters")
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"alias {quoted(text)} is {len(text)} characters long; "
            f"shorten it to at most {MAX_NAME_LENGTH}"
        )
    for forbidden in ("/", ":"):
        if forbidden in text:
            raise ValidationError(
                f"alias {quoted(text)} contains {forbidden!r}; aliases may not contain '/' or ':'"
            )
    bad = first_invisible_char(text)
    if bad is not None:
        raise ValidationError(
            f"alias {quoted(text)} contains the invisible character {char_label(bad)}; remove it"
        )
    if text.strip() != text:
        raise ValidationError(
            f"alias {quoted(text)} starts or ends with whitespace; remove the spaces"
        )
    if _VERSION_FORM_RE.fullmatch(text):
        raise ValidationError(
            f"alias {quoted(text)} looks like a version number (vN); versions are numbered "
            "automatically, so pick an alias such as 'best' or 'production'"
        )
    return text


def validate_user_alias(alias: str) -> str:
    """An alias a user may set: :func:`validate_alias` and not ``latest``."""
    validate_alias(alias)
    if alias == LATEST:
        raise ValidationError(
            f"alias {LATEST!r} cannot be set by hand: it moves by itself to the newest "
            "committed version; pick another alias such as 'best' or 'production'"
        )
    return alias


def validate_tag(tag: str) -> str:
    """A tag: 1-128 characters of words, ``-`` and ``_``, words separated by spaces."""
    text = _require_str(tag, "tag")
    if not text:
        raise ValidationError(f"tag '' is empty; give it 1 to {MAX_NAME_LENGTH} characters")
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"tag {quoted(text)} is {len(text)} characters long; "
            f"shorten it to at most {MAX_NAME_LENGTH}"
        )
    if not _TAG_RE.fullmatch(text):
        raise ValidationError(
            f"tag {quoted(text)} may only contain letters, digits, '-' and '_', "
            "with single words separated by spaces (no leading or trailing space)"
        )
    return text


def validate_description(text: str | None) -> str | None:
    """A version description: ``None`` or at most 65,536 characters without NUL."""
    if text is None:
        return None
    _require_str(text, "description")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"description {quoted(text)} is {len(text):,} characters long; "
            f"shorten it to at most {MAX_DESCRIPTION_LENGTH:,} or put the text in a file"
        )
    if "\x00" in text:
        raise ValidationError(
            f"description {quoted(text)} contains a NUL character at index "
            f"{text.index(chr(0))}; remove it"
        )
    surrogate = _SURROGATE_RE.search(text)
    if surrogate is not None:
        raise ValidationError(
            f"description {quoted(text)} contains the unpaired surrogate "
            f"{char_label(surrogate.group())}, which cannot be stored as UTF-8; remove it"
        )
    return text
