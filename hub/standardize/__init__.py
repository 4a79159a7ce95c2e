"""Standardization of customer values: one module per concern."""
