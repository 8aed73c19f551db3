"""dataeff.estimator."""
