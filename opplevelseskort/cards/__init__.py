"""The cards part of Opplevelseskort."""
