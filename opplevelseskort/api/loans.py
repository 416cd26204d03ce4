"""API endpoints: loans."""
