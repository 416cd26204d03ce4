"""The family's own pages: the card page, booking and cancelling from it, the card's QR and PDF, and the neutral
page behind the QR. It sits above every part it reads (cards, partners, checkin, utstyr), so no lower part needs
a hook to reach the family's page."""
