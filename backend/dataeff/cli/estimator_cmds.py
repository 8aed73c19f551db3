"""`dataeff` sub-commands over `dataeff.estimator` (filled in by the estimator work)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
