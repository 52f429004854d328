"""Detectors: one module per rule family, each a pure function of an item to findings."""
