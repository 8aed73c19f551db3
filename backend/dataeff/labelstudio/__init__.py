"""dataeff.labelstudio."""
