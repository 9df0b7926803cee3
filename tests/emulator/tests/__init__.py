"""Tests of the BigFix REST API emulator."""
