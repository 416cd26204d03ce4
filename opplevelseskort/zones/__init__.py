"""Zones: the municipality's areas and their history.

Owns: zones (grunnkrets, delområde, bydel, levekår zones) and their boundaries (`models`, `geo`), their imports
(`imports`: GeoJSON in any Norwegian CRS, CSV, mapping tables; run as jobs in `jobs`), the change lists between
classification versions and which zone is in force in a year (`versions`), and the zone admin pages (`views`).
May import: core, accounts. Imported by cards, partners, reports and the equipment pool.
"""
