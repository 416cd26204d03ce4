"""What every part shares: municipalities, zones, users and roles, tokens, audit log, outbox."""
