"""Partner organisations, offers, bookings and the catalogue."""
