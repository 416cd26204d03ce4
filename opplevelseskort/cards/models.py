"""cards models."""
