"""One module per source layout; ngobrief.ingest.registry() finds them (see docs/sources.md)."""
