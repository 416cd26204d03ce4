"""The checkin part of Opplevelseskort."""
