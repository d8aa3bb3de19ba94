"""``artifact-desk``: ``main(argv) -> exit status``, the only place that turns errors into exits."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence

from desktop_app.cli.commands import COMMANDS, Command
from desktop_app.cli.output import Output
from desktop_app.cli.parser import (
    EXIT_CANCELLED,
    EXIT_INTERNAL,
    EXIT_IO,
    EXIT_USAGE,
    ParserExit,
    UsageError,
    build_parser,
)
from desktop_app.cli.server_commands import STANDALONE
from desktop_app.client.session import Client
from desktop_app.core.errors import ArtifactDeskError, CancelledError

DEBUG_ENV = "ARTIFACT_DESK_DEBUG"
EXIT_BROKEN_PIPE = 141

ClientFactory = Callable[[], Client]

DISPLAY_ENVS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def no_display_problem(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why the window cannot open here (a Linux session without a display), or None."""
    if not platform.startswith("linux") or any(environ.get(name) for name in DISPLAY_ENVS):
        return None
    return (
        "there is no display to open the window on (DISPLAY is not set): run artifact-desk "
        "in a desktop session, or use one of the commands below\n"
    )


def _open_window(out: Output, parser: argparse.ArgumentParser) -> int:
    problem = no_display_problem(os.environ)
    if problem is not None:
        out.raw_error(problem + "\n" + parser.format_help())
        return EXIT_USAGE
    from desktop_app.gui.app import run

    return run(sys.argv[:1])


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    output: Output | None = None,
) -> int:
    """Run ``artifact-desk`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    ``client_factory`` builds the client (default: ``Client()``, which reads
    ``ARTIFACT_DESK_HOME`` and the settings); ``output`` replaces stdout and stderr.
    """
    out = output or Output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        out.raw_error(exc.usage)
        out.error(exc.message, prog=exc.prog)
        return EXIT_USAGE
    except ParserExit as exc:
        return exc.status
    out.quiet = bool(args.quiet)

    command = args.command
    if command is None:
        return _run(lambda: _open_window(out, parser), out)
    if command == "cache":
        if args.cache_action is None:
            cache_parser = parser.subcommand_parser("cache")
            out.raw_error(cache_parser.format_help())
            return EXIT_USAGE
        command = f"cache {args.cache_action}"
    if command == "server":
        if args.server_action is None:
            out.raw_error(parser.subcommand_parser("server").format_help())
            return EXIT_USAGE
        command = f"server {args.server_action}"
    if command in STANDALONE:
        standalone = STANDALONE[command]
        return _run(lambda: standalone(args, out), out)
    factory = client_factory or Client
    return _run(lambda: _with_client(COMMANDS[command], args, out, factory), out)


def _with_client(
    command: Command, args: argparse.Namespace, out: Output, client_factory: ClientFactory
) -> int:
    with client_factory() as client:
        return command(client, args, out)


def _run(work: Callable[[], int], out: Output) -> int:
    """Run a command; every error becomes a message and an exit status here."""
    try:
        return work()
    except CancelledError as exc:
        out.cancelled(str(exc))
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        out.cancelled()
        return EXIT_CANCELLED
    except ArtifactDeskError as exc:
        out.error(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        out.error(_describe_os_error(exc))
        return EXIT_IO
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            out.raw_error(traceback.format_exc())
        out.error(
            f"unexpected {type(exc).__name__}: {exc}; this is a bug in Artifact Desk, please "
            f"report it (set {DEBUG_ENV}=1 to see the traceback)"
        )
        return EXIT_INTERNAL


def _describe_os_error(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return f"cannot access{where}: {reason}"


def _silence_stdout() -> None:
    # Python flushes stdout at exit; after a closed pipe that would fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def entry_point() -> None:
    """The ``artifact-desk`` console script."""
    sys.exit(main())
