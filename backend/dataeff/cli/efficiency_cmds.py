"""`dataeff` sub-commands over `dataeff.efficiency` (filled in by the efficiency work)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
