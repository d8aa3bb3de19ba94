"""The argument parser of ``artifact-desk``; argparse never exits or prints by itself here."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from desktop_app import __version__
from desktop_app.cli.output import PROG

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2
EXIT_IO = 74
EXIT_INTERNAL = 70
EXIT_CANCELLED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    verify: the folder does not match the version
  2    usage error or invalid input (a bad name, alias, reference, size, JSON...)
  3    not found (project, artifact, version or alias)
  4    conflict (e.g. the name already has another type)
  5    integrity error (content does not match its digest)
  6    backend unavailable; try again later
  7    the server refused the API key (`artifact-desk login URL` with a valid one)
  70   unexpected internal error (ARTIFACT_DESK_DEBUG=1 shows the traceback)
  74   file system error (permission denied, disk full...)
  130  cancelled (Ctrl-C)

Without a command, artifact-desk prints this help and exits with 2; the desktop window
comes with a later release. All folders move under $ARTIFACT_DESK_HOME when it is set.
"""

REF_HELP = "'project/name', 'entity/project/name', optionally ':vN' or ':alias' (default latest)"


class UsageError(Exception):
    """argparse found a bad command line; ``usage`` is the relevant usage text."""

    def __init__(self, prog: str, usage: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.usage = usage
        self.message = message


class ParserExit(Exception):  # noqa: N818 - a normal early exit, not an error
    """argparse finished early (``--help``, ``--version``) with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so ``main`` owns all output."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands: dict[str, argparse.ArgumentParser] = {}

    def subcommand_parser(self, name: str) -> argparse.ArgumentParser:
        """The parser of subcommand ``name`` (for printing its help)."""
        return self.subcommands[name]

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, self.format_usage(), message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message)
        raise ParserExit(status)


def app_version() -> str:
    """The installed package version."""
    return __version__


def _add_common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a subcommand from resetting -q given before the command.
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print only errors and requested data (listings, JSON, the downloaded folder)",
    )


def build_parser() -> ArgumentParser:
    """The full ``artifact-desk`` parser."""
    parser = ArgumentParser(
        prog=PROG,
        description="Version the files that flow in and out of training runs "
        "(W&B Artifacts compatible).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {app_version()}")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False,
        help="print only errors and requested data (listings, JSON, the downloaded folder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    put = commands.add_parser(
        "put",
        help="upload a file or folder as a new version",
        description="Upload a file or folder as the next version of an artifact. If the "
        "content equals the latest version, nothing is uploaded and that version is kept.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    put.add_argument("path", metavar="PATH", help="the file or folder to upload")
    put.add_argument(
        "-n",
        "--name",
        required=True,
        metavar="[ENTITY/]PROJECT/NAME",
        help="where the artifact lives, e.g. artifacts-example/example_artifact",
    )
    put.add_argument(
        "-t",
        "--type",
        default="unspecified",
        metavar="TYPE",
        help="artifact type such as dataset or model (default: unspecified)",
    )
    put.add_argument(
        "-a",
        "--alias",
        action="append",
        default=[],
        metavar="ALIAS",
        help="alias for the new version, e.g. best (repeatable; latest is always set)",
    )
    put.add_argument("-d", "--description", metavar="TEXT", help="description of the version")
    put.add_argument("--metadata", metavar="JSON", help="a JSON object, e.g. '{\"rows\": 1000}'")
    put.add_argument("--tag", action="append", default=[], metavar="TAG", help="tag (repeatable)")
    _add_common(put)

    get = commands.add_parser(
        "get",
        help="download a version",
        description="Download a version and print the folder it went to "
        "(default ./artifacts/<name>:vN).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    get.add_argument("ref", metavar="REF", help=REF_HELP)
    get.add_argument("--root", metavar="DIR", help="folder to place the files in")
    get.add_argument(
        "--path", metavar="PREFIX", help="download only this file or folder of the version"
    )
    _add_common(get)

    ls = commands.add_parser(
        "ls",
        help="list projects, or the artifacts of a project",
        description="Without PROJECT, list the projects; with PROJECT, list its artifacts.",
    )
    ls.add_argument("project", nargs="?", metavar="PROJECT", help="[ENTITY/]PROJECT")
    ls.add_argument("-t", "--type", metavar="TYPE", help="only artifacts of this type")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_common(ls)

    versions = commands.add_parser(
        "versions",
        help="list the versions of an artifact",
        description="List the versions of an artifact, oldest first.",
    )
    versions.add_argument("artifact", metavar="[ENTITY/]PROJECT/NAME")
    versions.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_common(versions)

    files = commands.add_parser(
        "files",
        help="list the files of a version",
        description="List the files of a version: path, size and digest, in path order.",
    )
    files.add_argument("ref", metavar="REF", help=REF_HELP)
    files.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_common(files)

    verify = commands.add_parser(
        "verify",
        help="check that a folder holds exactly a version's files",
        description="Compare a folder with a version: exit 0 if it matches, otherwise "
        "print each missing, changed or extra file and exit 1.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("ref", metavar="REF", help=REF_HELP)
    verify.add_argument("folder", metavar="DIR", help="the folder to check")
    _add_common(verify)

    cache = commands.add_parser(
        "cache",
        help="manage the local content cache",
        description="Manage the cache of downloaded file contents.",
    )
    cache_actions = cache.add_subparsers(dest="cache_action", metavar="ACTION")
    cleanup = cache_actions.add_parser(
        "cleanup",
        help="evict least recently used contents down to SIZE",
        description="Evict the least recently used contents until the cache holds at most "
        "SIZE; contents of pinned versions are kept.",
    )
    cleanup.add_argument("size", metavar="SIZE", help="e.g. 10GB, 500MiB, 0")
    _add_common(cleanup)
    _add_common(cache)
    serve, server = _add_server_commands(commands)
    login = commands.add_parser(
        "login",
        help="use a team server: check and store its API key",
        description="Ask for the API key (hidden; or read the first line of stdin), check "
        "it against the server, keep it in the system keyring (or a file only you can read "
        "where there is none) and make the server the default for the CLI and SDK. "
        "ARTIFACT_DESK_URL and ARTIFACT_DESK_API_KEY override both.",
    )
    login.add_argument("url", metavar="URL", help="the server, e.g. https://artifacts.example.com")
    _add_common(login)
    logout = commands.add_parser("logout", help="forget the server's key, use the embedded store")
    _add_common(logout)
    parser.subcommands.update(
        {
            "put": put,
            "get": get,
            "ls": ls,
            "versions": versions,
            "verify": verify,
            "cache": cache,
            "serve": serve,
            "server": server,
            "login": login,
            "logout": logout,
        }
    )
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, metavar="DIR", help="the server's folder (blobs, SQLite)"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="metadata database instead of SQLite in DIR, e.g. postgresql+psycopg://host/db",
    )


def _add_server_commands(
    commands: argparse._SubParsersAction[ArgumentParser],
) -> tuple[ArgumentParser, ArgumentParser]:
    serve = commands.add_parser(
        "serve",
        help="run the team server",
        description="Serve the HTTP API over a store in --data (SQLite and blob folder, or "
        "--db for PostgreSQL). Plain HTTP is refused on non-loopback addresses unless TLS "
        "files are given or --allow-plain-http says a TLS proxy is in front.",
    )
    _add_data_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (PEM)")
    serve.add_argument("--tls-key", metavar="FILE", help="TLS private key (PEM)")
    serve.add_argument(
        "--allow-plain-http", action="store_true", help="a TLS proxy is in front of the server"
    )
    _add_common(serve)

    server = commands.add_parser(
        "server",
        help="manage the server's API keys and storage",
        description="Manage API keys; free storage.",
    )
    actions = server.add_subparsers(dest="server_action", metavar="ACTION")
    create = actions.add_parser(
        "create-key",
        help="create an API key (printed once)",
        description="Create an API key. Without --project it is an owner key, admin in "
        "every project; with --project P --role read|write|admin (repeatable) it may act "
        "only there.",
    )
    _add_data_options(create)
    create.add_argument("--name", required=True, help="who the key is for, e.g. alice")
    create.add_argument("--project", action="append", metavar="PROJECT", help="[ENTITY/]PROJECT")
    create.add_argument("--role", action="append", choices=["read", "write", "admin"])
    _add_common(create)
    listing = actions.add_parser("list-keys", help="list API keys (never their secrets)")
    _add_data_options(listing)
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    _add_common(listing)
    revoke = actions.add_parser("revoke-key", help="revoke an API key by its id")
    _add_data_options(revoke)
    revoke.add_argument("key_id", metavar="ID")
    _add_common(revoke)
    collect = actions.add_parser(
        "gc",
        help="free the space of files no version holds any more",
        description="Remove the stored files that no version holds any more (those of "
        "deleted versions and discarded drafts), interrupted uploads older than "
        "--stale-days, and pack files of small files that are mostly garbage (their live "
        "files are copied into a new pack first). The server may keep running.",
    )
    _add_data_options(collect)
    collect.add_argument(
        "--stale-days",
        type=float,
        default=7.0,
        metavar="DAYS",
        help="remove interrupted uploads older than this (default 7)",
    )
    _add_common(collect)
    _add_common(server)
    return serve, server
