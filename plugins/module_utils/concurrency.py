# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fan one call out over many computers on a bounded set of threads."""

from __future__ import annotations

import threading

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError


def fan_out(func, items, concurrency):
    """Call ``func(item)`` for every item, at most ``concurrency`` at a time.

    Returns ``(item, result, error)`` triples in the order of ``items``: a BigFixError for one item
    is kept as its ``error`` and the others carry on. Any other exception is a bug: no further item
    is started, and it propagates once the calls already running have ended.

    Worker threads take the next item from a shared counter rather than from an executor's queue:
    at thousands of items, a future per item cost more CPU than the requests it waited for.
    """
    items = list(items)
    results = [None] * len(items)
    errors = [None] * len(items)
    positions = iter(range(len(items)))
    lock = threading.Lock()
    bugs = []

    def work():
        while True:
            with lock:
                position = None if bugs else next(positions, None)
            if position is None:
                return
            try:
                results[position] = func(items[position])
            except BigFixError as exc:
                errors[position] = exc
            except Exception as exc:  # pylint: disable=broad-exception-caught
                with lock:
                    bugs.append(exc)
                return

    workers = [threading.Thread(target=work, name="bigfix-fan-out-%d" % number)
               for number in range(min(max(1, concurrency), len(items)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if bugs:
        raise bugs[0]
    return list(zip(items, results, errors))
