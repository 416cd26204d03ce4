"""API endpoints: checkins."""
