"""BigFix REST API emulator for the bigfix.core tests and benchmarks (see README.md)."""
