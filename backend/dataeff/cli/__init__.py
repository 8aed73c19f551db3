"""The ``dataeff`` command line: thin commands over the library layers.

Each command module registers its sub-commands with :func:`register` and returns a result
object; this module parses options, prints the result (JSON by default, ``--format table``
for people) and turns every :class:`~dataeff.errors.DataeffError` into one line on stderr
and exit code 2. Heavy imports (torch, flask) happen inside the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from dataeff import __version__
from dataeff.cli import efficiency_cmds, estimator_cmds, labelstudio_cmds, service_cmds
from dataeff.errors import DataeffError

EXIT_USAGE = 2

_COMMAND_MODULES = (efficiency_cmds, estimator_cmds, service_cmds, labelstudio_cmds)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dataeff",
        description="Predict how many more labeled examples an LLM fine-tuning task needs.",
    )
    parser.add_argument("--version", action="version", version=f"dataeff {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in _COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except DataeffError as error:
        print(f"dataeff: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dataeff: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`dataeff models | head -1`): not an error of ours
        _silence_stdout()
        return 0
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
