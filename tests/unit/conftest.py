"""Unit-test settings: hypothesis runs derandomized (same examples every run) without deadlines,
so a loaded CI machine neither flakes nor changes what is tested."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("dataeff-unit", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("dataeff-unit")
