"""dataeff.efficiency."""
