"""The pure domain core: what a lead, an org, a routing config and a decision are, and the
functions that clean, match, score, route and explain.

No I/O here: no database, no network, no files, no clock, no environment (time and settings
come in as arguments). Modules here import the standard library, third-party libraries, each
other and `leadroute.ports`, nothing else of leadroute (tests/test_architecture.py checks it).
"""
