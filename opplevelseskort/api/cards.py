"""API endpoints: cards."""
