"""Everything that talks to the world: the SQL store (`store/`), lead and activity files, org
files, enrichment providers, notification channels, CRM write-back, inbound webhook formats,
the in-memory store used by the engine and its tests.

Adapters may import the domain and `leadroute.ports`, never services, the API, the console or
the CLI (tests/test_architecture.py checks it). One narrow seam per kind of I/O, so a test can
put a loopback server or an in-memory fake behind it without patching.
"""
