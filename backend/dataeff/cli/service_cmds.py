"""`dataeff` sub-commands over `dataeff.service` (filled in by the service work)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
