"""Translation tests use the shared fixtures (tests/conftest.py) and factories (tests/factories.py)."""
