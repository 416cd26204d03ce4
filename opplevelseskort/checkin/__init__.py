"""Check-in at the door: the rules a scan is judged by (`services`: one named `DoorOffer` read, one `Visit`
written), the scanner page and the card link, no-shows, voiding, and partners' visit statements (`statements`).

May import: core, accounts, zones, cards, partners.
"""
