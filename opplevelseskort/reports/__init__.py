"""The reports part of Opplevelseskort."""
