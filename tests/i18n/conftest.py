from ..cards.conftest import card, child, household  # noqa: F401
