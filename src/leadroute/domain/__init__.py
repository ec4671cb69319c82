"""Pure domain core: data types and decisions, no I/O."""
