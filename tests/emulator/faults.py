"""Fault injection decisions: which /api request gets an error status, a reset or a delay.

One seeded random generator, drawn under a lock in request arrival order, makes a serial client's
faults reproducible. Resets alternate between "before processing" and "after processing", so
exactly half (rounded up) of the resets happen before the request is processed.
"""

import random
import threading
from typing import NamedTuple


class Fault(NamedTuple):
    """What to do to one request: ``kind`` is None or a key of the stats ``faults`` map."""

    kind: object
    delay: float
    spiked: bool


class FaultInjector:
    """Draws faults for requests from the current ``Faults`` switches."""

    def __init__(self, seed):
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._resets = 0

    def reseed(self, seed):
        """Restart the random sequence (and the before/after alternation) from ``seed``."""
        with self._lock:
            self._random = random.Random(seed)
            self._resets = 0

    def decide(self, faults):
        """Decide the fault for one request."""
        if not faults.random:
            return Fault(None, faults.latency, False)
        kind = None
        spiked = False
        with self._lock:
            roll = self._random.random()
            edge = 0.0
            for name, fraction in (("500", faults.fraction_500), ("502", faults.fraction_502),
                                   ("503", faults.fraction_503), ("reset", faults.fraction_reset)):
                edge += fraction
                if roll < edge:
                    kind = name
                    break
            if kind == "reset":
                kind = "reset_before" if self._resets % 2 == 0 else "reset_after"
                self._resets += 1
            if faults.fraction_spike and self._random.random() < faults.fraction_spike:
                spiked = True
        delay = faults.latency + (faults.spike_seconds if spiked else 0.0)
        return Fault(kind, delay, spiked)
