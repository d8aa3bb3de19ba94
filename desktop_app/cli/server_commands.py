"""Commands that need no client: ``serve`` and ``server create-key|list-keys|revoke-key``."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable
from pathlib import Path

from desktop_app.cli.login import login, logout
from desktop_app.cli.output import Output
from desktop_app.cli.parser import EXIT_OK
from desktop_app.client.units import format_size
from desktop_app.core.errors import ValidationError
from desktop_app.server.config import ServerConfig
from desktop_app.server.keys import KeyStore
from desktop_app.store import Store

Standalone = Callable[[argparse.Namespace, Output], int]
# On Ctrl-C or SIGTERM, requests under way get this long to finish before the server stops.
GRACEFUL_SHUTDOWN_S = 10


def _server_extra_missing(exc: ImportError) -> ValidationError:
    return ValidationError(
        f"the server needs its extra packages ({exc.name} is missing); install them with "
        "pip install 'artifact-desk[server]'"
    )


def _config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        data_dir=Path(args.data).resolve(),
        db_url=getattr(args, "db", None),
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 8080),
        workers=getattr(args, "workers", 1),
        tls_cert=Path(args.tls_cert) if getattr(args, "tls_cert", None) else None,
        tls_key=Path(args.tls_key) if getattr(args, "tls_key", None) else None,
        allow_plain_http=getattr(args, "allow_plain_http", False),
    )


def serve(args: argparse.Namespace, out: Output) -> int:
    """Run the API server with uvicorn until interrupted."""
    config = _config(args)
    config.check_listening()
    try:  # FastAPI and uvicorn come with the server extra
        import uvicorn

        from desktop_app.server.app import create_app, freeze_startup_objects
    except ImportError as exc:
        raise _server_extra_missing(exc) from exc
    scheme = "https" if config.tls_cert else "http"
    out.message(
        f"serving {config.data_dir} ({config.database_url.split('://')[0]}) on "
        f"{scheme}://{config.host}:{config.port}/api/v1 ; Ctrl-C stops"
    )
    tls = {}
    if config.tls_cert and config.tls_key:
        tls = {"ssl_certfile": str(config.tls_cert), "ssl_keyfile": str(config.tls_key)}
    if config.workers > 1:
        import os

        os.environ.update(config.to_env())
        create_app(config)  # create the schema once, before the workers race to do it
        uvicorn.run(
            "desktop_app.server.app:app_from_env",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            log_level="info",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            **tls,  # type: ignore[arg-type]
        )
    else:
        app = create_app(config)
        freeze_startup_objects()
        uvicorn.run(
            app,
            host=config.host,
            port=config.port,
            log_level="info",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            **tls,  # type: ignore[arg-type]
        )
    return EXIT_OK


def _keys(args: argparse.Namespace) -> KeyStore:
    """The key store of the server in ``--data`` (created if new, so keys can come first)."""
    config = _config(args)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return KeyStore(Store(config.database_url, config.blob_dir).engine)


def create_key(args: argparse.Namespace, out: Output) -> int:
    """Print a new key once; the server keeps only its hash."""
    keys = _keys(args)
    grants = list(zip(args.project or [], args.role or [], strict=False))
    if len(args.project or []) != len(args.role or []):
        raise ValidationError(
            "give one --role for each --project, e.g. --project team/p --role write"
        )
    key, info = keys.create(args.name, grants)
    scope = (
        "owner: admin in every project"
        if info.owner
        else ", ".join(f"{p}: {r}" for p, r in info.roles.items())
    )
    out.note(f"created key {info.id} for {info.name!r} ({scope}); it is shown only now:")
    out.result(key)
    return EXIT_OK


def list_keys(args: argparse.Namespace, out: Output) -> int:
    keys = _keys(args)
    rows = []
    for info in keys.list(include_revoked=args.all):
        scope = "owner" if info.owner else ", ".join(f"{p}:{r}" for p, r in info.roles.items())
        created = datetime.datetime.fromtimestamp(info.created_at).strftime("%Y-%m-%d %H:%M")
        state = "revoked" if info.revoked_at else "active"
        rows.append([info.id, info.name, scope, created, state])
    out.table(["ID", "NAME", "ACCESS", "CREATED", "STATE"], rows)
    return EXIT_OK


def revoke_key(args: argparse.Namespace, out: Output) -> int:
    keys = _keys(args)
    info = keys.revoke(args.key_id)
    out.message(f"revoked key {info.id} ({info.name!r}); requests with it now get 401")
    return EXIT_OK


def collect_garbage(args: argparse.Namespace, out: Output) -> int:
    """Free the space of blobs no version holds, stale partial uploads and dead packs."""
    config = _config(args)
    if args.stale_days < 0:
        raise ValidationError(f"--stale-days {args.stale_days:g} is negative; give 0 or more")
    if not config.blob_dir.is_dir():
        raise ValidationError(
            f"{config.data_dir} holds no server data; give the --data folder the server runs with"
        )
    store = Store(config.database_url, config.blob_dir, pack_small_blobs=True)
    try:
        report = store.gc(stale_upload_seconds=args.stale_days * 24 * 3600)
    finally:
        store.close()
    out.message(
        f"removed {report.blobs_removed} file(s) no version holds; "
        f"freed {format_size(report.bytes_freed)}"
    )
    return EXIT_OK


STANDALONE: dict[str, Standalone] = {
    "login": login,
    "logout": logout,
    "serve": serve,
    "server create-key": create_key,
    "server list-keys": list_keys,
    "server revoke-key": revoke_key,
    "server gc": collect_garbage,
}
