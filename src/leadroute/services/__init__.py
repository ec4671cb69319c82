"""The use cases: route leads, record activities, run the SLA worker and the outbox, reports,
backtests, privacy erasure, console access.

A service composes the domain with the adapters it is given (the store, senders, enrichers,
the clock). Services may import the domain, `leadroute.ports`, `leadroute.adapters` and each
other; never `leadroute.api`, `leadroute.console` or `leadroute.cli`, which call them
(tests/test_architecture.py checks it).
"""
