"""Zone reports: indicators and levekår indices, the counts per zone and period, disclosure control
(`tables`, `disclosure`, `programs`), the stored publications a request reads (`store`, `published`), exports
(`formats`, `gis`, the OGC API's features) and comparisons across zone versions (`compare`).

May import: every part below it (core, accounts, zones, cards, partners, checkin, the equipment pool). Imported by
none but the API and the factory.
"""
