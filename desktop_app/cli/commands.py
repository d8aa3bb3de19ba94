"""One function per ``artifact-desk`` subcommand: ``command(client, args, out) -> exit status``."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from desktop_app.cli.output import Output
from desktop_app.cli.parser import EXIT_OK, EXIT_VERIFY_FAILED
from desktop_app.client.session import Client
from desktop_app.client.units import format_size, parse_size
from desktop_app.core.errors import ValidationError
from desktop_app.core.metadata import normalize_metadata
from desktop_app.core.names import (
    LATEST,
    quoted,
    validate_artifact_name,
    validate_description,
    validate_project,
    validate_tag,
    validate_type,
    validate_user_alias,
)
from desktop_app.core.records import CollectionInfo, ProjectInfo, VersionInfo
from desktop_app.core.refs import ArtifactRef, parse_ref

Command = Callable[[Client, argparse.Namespace, Output], int]


# -- helpers -----------------------------------------------------------------------------
@contextlib.contextmanager
def interruptible() -> Iterator[threading.Event]:
    """Turn the first Ctrl-C into a cancel request that transfers check at every chunk.

    A second Ctrl-C raises KeyboardInterrupt as usual. Outside the main thread (where
    signal handlers cannot be set) the event is simply never set.
    """
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(_signum: int, _frame: FrameType | None) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def split_artifact_path(text: str, what: str) -> tuple[str, str]:
    """``[entity/]project/name`` -> ``(project, name)``, with errors naming ``what``."""
    form = "[ENTITY/]PROJECT/NAME, e.g. artifacts-example/example_artifact"
    if ":" in text:
        raise ValidationError(
            f"{what} {quoted(text)} contains ':'; give {form} without a version or alias "
            "(set aliases with -a/--alias)"
        )
    project, slash, name = text.rpartition("/")
    if not slash:
        example = f"artifacts-example/{text}" if text else "artifacts-example/example_artifact"
        raise ValidationError(
            f"{what} {quoted(text)} names no project; write [ENTITY/]PROJECT/NAME, e.g. {example}"
        )
    try:
        validate_project(project)
        validate_artifact_name(name)
    except ValidationError as exc:
        raise ValidationError(f"in {what} {quoted(text)}: {exc}") from None
    return project, name


_JSON_KINDS: dict[type, str] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def parse_metadata(text: str | None) -> dict[str, Any] | None:
    """The ``--metadata`` option: a JSON object, checked by the metadata rules."""
    if text is None:
        return None
    example = '\'{"rows": 1000, "source": "s3"}\''
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"--metadata {quoted(text)} is not valid JSON ({exc.msg} at character {exc.pos}); "
            f"give a JSON object such as {example}"
        ) from None
    if not isinstance(parsed, dict):
        raise ValidationError(
            f"--metadata {quoted(text)} is a JSON {_JSON_KINDS.get(type(parsed), 'value')}, "
            "not an object; "
            f"give a JSON object such as {example}"
        )
    return normalize_metadata(parsed)


def parse_version_ref(text: str) -> ArtifactRef:
    """A reference that must name its project (the CLI has no default project)."""
    ref = parse_ref(text)
    if ref.project is None:
        raise ValidationError(
            f"artifact reference {quoted(text)} names no project; write "
            f"PROJECT/{ref.name}:{ref.selector} or ENTITY/PROJECT/{ref.name}:{ref.selector}"
        )
    return ref


def local_time(timestamp: float | None) -> str:
    """``2024-05-01 12:34`` in local time, or ``-``."""
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def iso_time(timestamp: float | None) -> str | None:
    """``2024-05-01T10:34:56Z`` (UTC) for JSON output."""
    if not timestamp:
        return None
    text = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def version_summary(version: VersionInfo) -> str:
    files = "file" if version.file_count == 1 else "files"
    return (
        f"{version.qualified_name} ({version.file_count} {files}, "
        f"{format_size(version.size)}, digest {version.digest})"
    )


def version_json(version: VersionInfo) -> dict[str, Any]:
    return {
        "project": version.project,
        "name": version.name,
        "type": version.type,
        "version": version.version,
        "index": version.index,
        "aliases": list(version.aliases),
        "tags": list(version.tags),
        "digest": version.digest,
        "files": version.file_count,
        "size": version.size,
        "description": version.description,
        "metadata": dict(version.metadata),
        "created": iso_time(version.created_at),
        "committed": iso_time(version.committed_at),
    }


# -- commands ----------------------------------------------------------------------------
def put(client: Client, args: argparse.Namespace, out: Output) -> int:
    """Upload PATH as the next version of PROJECT/NAME."""
    project, name = split_artifact_path(args.name, "-n/--name")
    type_ = validate_type(args.type)
    # `latest` always lands on the new version; accept it as W&B does instead of failing.
    aliases = list(dict.fromkeys(a for a in args.alias if a != LATEST))
    for alias in aliases:
        validate_user_alias(alias)
    for tag in args.tag:
        validate_tag(tag)
    description = validate_description(args.description)
    metadata = parse_metadata(args.metadata)
    local = Path(args.path)
    if not local.exists():
        raise ValidationError(f"{quoted(args.path)} does not exist; give a file or folder")

    with (
        interruptible() as cancel,
        out.progress("hashing") as hashing,
        out.progress("uploading") as uploading,
    ):
        result = client.put(
            local,
            project,
            name,
            type_,
            description=description,
            metadata=metadata,
            aliases=aliases,
            tags=args.tag,
            on_hash_progress=hashing,
            on_progress=uploading,
            is_cancelled=cancel.is_set,
        )
    version = result.version
    if result.unchanged:
        out.message(f"identical to {version.qualified_name}, nothing to upload")
    else:
        out.message(version_summary(version))
    if version.aliases:
        out.message(f"aliases: {', '.join(version.aliases)}")
    return EXIT_OK


def get(client: Client, args: argparse.Namespace, out: Output) -> int:
    """Download REF and print the folder it went to."""
    ref = parse_version_ref(args.ref)
    root = Path(args.root) if args.root is not None else None
    if root is not None and root.exists() and not root.is_dir():
        raise ValidationError(f"--root {quoted(args.root)} is a file; give a folder")
    version = client.resolve(ref)
    with interruptible() as cancel, out.progress("downloading") as progress:
        report = client.get(
            version,
            root,
            path_prefix=args.path,
            on_progress=progress,
            is_cancelled=cancel.is_set,
        )
    out.note(
        f"{version.qualified_name}: {report.files} files in {report.root} "
        f"({report.written} written, {report.skipped} already up to date)"
    )
    out.result(str(report.root))
    return EXIT_OK


def ls(client: Client, args: argparse.Namespace, out: Output) -> int:
    """List projects, or the artifacts of one project."""
    if args.project is None:
        if args.type is not None:
            raise ValidationError(
                f"-t/--type {quoted(args.type)} filters the artifacts of one project; "
                f"give the project too, e.g. `ls artifacts-example -t {args.type}`"
            )
        _print_projects(client.backend.list_projects(), args, out)
    else:
        project = validate_project(args.project)
        collections = client.backend.list_collections(project, args.type)
        _print_collections(project, collections, args, out)
    return EXIT_OK


def _print_projects(projects: list[ProjectInfo], args: argparse.Namespace, out: Output) -> None:
    if args.json:
        out.json(
            [
                {
                    "project": p.name,
                    "artifacts": p.artifact_count,
                    "created": iso_time(p.created_at),
                }
                for p in projects
            ]
        )
    elif not projects:
        out.note("no projects yet; upload a folder with `artifact-desk put PATH -n PROJECT/NAME`")
    else:
        rows = [[p.name, str(p.artifact_count), local_time(p.created_at)] for p in projects]
        out.table(["PROJECT", "ARTIFACTS", "CREATED"], rows)


def _print_collections(
    project: str, collections: list[CollectionInfo], args: argparse.Namespace, out: Output
) -> None:
    if args.json:
        out.json(
            [
                {
                    "project": c.project,
                    "name": c.name,
                    "type": c.type,
                    "versions": c.version_count,
                    "description": c.description,
                    "created": iso_time(c.created_at),
                    "updated": iso_time(c.updated_at),
                }
                for c in collections
            ]
        )
    elif not collections:
        kind = f" of type {args.type!r}" if args.type else ""
        out.note(f"project {project!r} has no artifacts{kind}")
    else:
        rows = [
            [c.name, c.type, str(c.version_count), local_time(c.updated_at)] for c in collections
        ]
        out.table(["NAME", "TYPE", "VERSIONS", "UPDATED"], rows)


def versions(client: Client, args: argparse.Namespace, out: Output) -> int:
    """List the versions of PROJECT/NAME."""
    project, name = split_artifact_path(args.artifact, "artifact")
    found = client.backend.list_versions(project, name)
    if args.json:
        out.json([version_json(v) for v in found])
        return EXIT_OK
    rows = [
        [
            v.version or "draft",
            ", ".join(v.aliases) or "-",
            v.digest,
            str(v.file_count),
            format_size(v.size),
            local_time(v.created_at),
        ]
        for v in found
    ]
    out.table(["VERSION", "ALIASES", "DIGEST", "FILES", "SIZE", "CREATED"], rows)
    return EXIT_OK


def files(client: Client, args: argparse.Namespace, out: Output) -> int:
    """List the files of REF, page by page so that huge versions print as they load."""
    version = client.resolve(parse_version_ref(args.ref))
    cursor: str | None = None
    rows: list[list[str]] = []
    listed: list[dict[str, Any]] = []
    while True:
        page = client.backend.list_entries(version.id, cursor=cursor, limit=10_000)
        for entry in page.items:
            size = "-" if entry.size is None else format_size(entry.size)
            rows.append([entry.path, size, entry.ref or entry.digest])
            listed.append({"path": entry.path, **entry.to_json()})
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if args.json:
        out.json(listed)
    else:
        out.table(["PATH", "SIZE", "DIGEST OR REFERENCE"], rows)
    return EXIT_OK


def verify(client: Client, args: argparse.Namespace, out: Output) -> int:
    """Exit 0 when DIR holds exactly REF's files, else list the differences and exit 1."""
    ref = parse_version_ref(args.ref)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise ValidationError(f"{quoted(args.folder)} is not a folder; give the folder to check")
    version = client.resolve(ref)
    problems = client.verify(version, folder)
    if not problems:
        out.message(f"{args.folder} matches {version.qualified_name} ({version.file_count} files)")
        return EXIT_OK
    for problem in problems:
        out.result(f"{problem.problem}: {problem.path}")
    count = f"{len(problems)} difference" + ("" if len(problems) == 1 else "s")
    out.error(f"verify failed: {args.folder} does not match {version.qualified_name} ({count})")
    return EXIT_VERIFY_FAILED


def cache_cleanup(client: Client, args: argparse.Namespace, out: Output) -> int:
    """Evict least recently used cached contents down to SIZE; pinned ones stay."""
    target = parse_size(args.size)
    cache = client.content_cache
    freed = cache.evict(target)
    remaining = cache.total_bytes()
    out.message(
        f"freed {format_size(freed)} ({freed:,} bytes); the cache holds "
        f"{format_size(remaining)} ({remaining:,} bytes)"
    )
    if remaining > target:
        out.note(
            f"{format_size(remaining)} stays above {format_size(target)} because it belongs "
            "to pinned versions"
        )
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "put": put,
    "get": get,
    "ls": ls,
    "versions": versions,
    "files": files,
    "verify": verify,
    "cache cleanup": cache_cleanup,
}
