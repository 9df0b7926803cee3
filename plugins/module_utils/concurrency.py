# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fan one call out over many computers on a bounded pool of threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError


def fan_out(func, items, concurrency):
    """Call ``func(item)`` for every item, at most ``concurrency`` at a time.

    Returns ``(item, result, error)`` triples in the order of ``items``: a BigFixError for one item
    is kept as its ``error`` and the others carry on. Any other exception is a bug and propagates.
    """
    def guarded(item):
        try:
            return item, func(item), None
        except BigFixError as exc:
            return item, None, exc

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(guarded, items))
