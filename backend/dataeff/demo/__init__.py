"""dataeff.demo: demo task generators, the guided demo and its plot."""
