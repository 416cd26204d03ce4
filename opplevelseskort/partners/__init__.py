"""Partners and offers: registration and approval of partner organisations, their offers and the public
catalogue (`services`, `catalogue_cache`), dated occasions and bookings with a waiting list (`bookings`), and
which organisation a partner user works for.

May import: core, accounts, zones, cards.
"""
