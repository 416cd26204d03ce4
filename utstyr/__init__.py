"""The equipment pool: locations, item types, units, reservations, loans, labels."""
