"""Matching: blocking keys find candidates, comparisons decide who is the same customer."""
