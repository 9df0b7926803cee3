"""Performance benchmarks of bigfix.core against the BigFix REST API emulator (``python -m benchmarks``)."""
