"""/api/v1: JSON endpoints over the same services as the pages."""
