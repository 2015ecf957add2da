"""One customer's data, wherever Teranga keeps it: export it, erase it and prove it is gone,
and purge conversations older than the retention period (`teranga privacy`, docs/privacy.md).

A customer is a conversation id, or a phone number: its SMS (`+221…`) and WhatsApp
(`whatsapp:+221…`) conversations are one person, as the desk's history already treats them.
`holdings.py` finds what is held (per-customer keys, and the customer's entries in shared
streams, lists, sets and hashes), `export.py` writes it out, `erase.py` removes it and scans
the whole database afterwards, `retention.py` erases what is older than TERANGA_RETENTION_DAYS.
"""
