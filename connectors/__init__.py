"""Connectors: one module per platform, each turning a platform's API into domain items."""
