"""``login URL`` and ``logout``: choose a team server and keep its API key safely."""

from __future__ import annotations

import argparse
import getpass
import sys

from desktop_app.backends.http import HttpBackend
from desktop_app.cli.output import Output
from desktop_app.cli.parser import EXIT_OK
from desktop_app.client.credentials import forget_key, store_key
from desktop_app.client.paths import AppPaths
from desktop_app.client.settings import load_settings, save_settings
from desktop_app.core.errors import ValidationError


def _read_key(url: str) -> str:
    """The key from a hidden prompt, or the first line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        key = getpass.getpass(f"API key for {url} (input hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise ValidationError(
            "no API key was given; ask the server's admin for one "
            "(`artifact-desk server create-key` on the server)"
        )
    return key


def login(args: argparse.Namespace, out: Output) -> int:
    """Check the key against the server, store it, and make the server the default backend."""
    paths = AppPaths.from_env().ensure()
    key = _read_key(args.url)
    with HttpBackend(args.url, key) as backend:
        backend.health()
        projects = backend.list_projects()  # proves the key works (401 otherwise)
        url = backend.url
    where = store_key(url, key, paths)
    settings = load_settings(paths)
    settings.backend_url = url
    save_settings(paths, settings)
    out.message(
        f"logged in to {url} ({len(projects)} project(s) visible); the key is kept in {where}"
    )
    if where != "the system keyring":
        out.message(
            "no secure system keyring is available here, so the key is in that file, "
            "readable only by you"
        )
    return EXIT_OK


def logout(args: argparse.Namespace, out: Output) -> int:
    """Forget the server's key and go back to the embedded store."""
    paths = AppPaths.from_env().ensure()
    settings = load_settings(paths)
    url = settings.backend_url
    if url is None:
        out.message("not logged in to a server; the embedded store is in use")
        return EXIT_OK
    forget_key(url, paths)
    settings.backend_url = None
    save_settings(paths, settings)
    out.message(f"logged out of {url}; the embedded store is in use again")
    return EXIT_OK
