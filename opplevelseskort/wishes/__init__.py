"""Children's wishes (issue 41): anonymous wish rounds (class codes, card holders), results through the zone
report's disclosure engine, gaps against the offers, calls to partners, and the loop back to the children.

Owns its tables (`wish_*`), the culture office's pages, the class code pages, the partners' calls and the public
page. Sits above reports (it protects its results with `reports.disclosure`) and below portal (the card page shows
a card holder's rounds and the offers wishes led to); reads cards, partners, check-ins and zones below it."""
