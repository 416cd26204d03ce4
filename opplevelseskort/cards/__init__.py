"""Experience cards: households and children (`households`), cards, their codes and links (`services`, `codes`),
applications from families (`applications`), bulk import, outreach and printing.

May import: core, accounts, zones.
"""
