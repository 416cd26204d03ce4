"""Activity money (issue 40): a balance per child that pays the club, in a double-entry ledger whose invariants the
database holds. Schemes grant money to every child with a valid card in scope (`services`), bookings of priced
offers reserve it, check-in settles it to the partner, the period's end lapses what is left (`ledger` posts every
movement). Sits above partners (offers, bookings) and below check-in (which settles)."""
