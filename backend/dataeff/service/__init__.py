"""dataeff.service."""
