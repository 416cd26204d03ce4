"""The equipment pool: locations, item types and labelled units, borrowers, checkout and return
(`services`), reservations (`reservations`), reminders, overdue loans and statistics (`overview`).

May import: core, accounts, zones, cards. Nothing below it imports it (reports, the family's pages, the API and the
factory read it).
"""
