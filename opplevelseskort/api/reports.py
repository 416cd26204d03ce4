"""API endpoints: reports."""
