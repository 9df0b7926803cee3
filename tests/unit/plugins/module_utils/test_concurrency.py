# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/concurrency.py: fan_out keeps order, bounds parallelism, isolates BigFix errors."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils.concurrency import fan_out


def test_fan_out_keeps_the_order_of_items():
    assert fan_out(lambda n: n * n, [5, 1, 4, 2], 3) == [(5, 25, None), (1, 1, None), (4, 16, None), (2, 4, None)]


def test_fan_out_keeps_bigfix_errors_per_item():
    error = BigFixError("gone", status=404)

    def work(item):
        if item == 2:
            raise error
        return item

    assert fan_out(work, [1, 2, 3], 2) == [(1, 1, None), (2, None, error), (3, 3, None)]


def test_fan_out_lets_other_exceptions_through():
    def work(item):
        raise KeyError(item)

    with pytest.raises(KeyError):
        fan_out(work, [1], 1)


@pytest.mark.parametrize("concurrency, expected", [(1, 1), (3, 3), (0, 1)])
def test_fan_out_bounds_parallelism(concurrency, expected):
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}
    barrier = threading.Barrier(expected, timeout=5)

    def work(item):
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        barrier.wait()
        with lock:
            state["running"] -= 1
        return item

    assert [triple[0] for triple in fan_out(work, list(range(9)), concurrency)] == list(range(9))
    assert state["peak"] == expected


def test_fan_out_of_nothing():
    assert fan_out(lambda item: item, [], 4) == []


def test_fan_out_starts_no_item_after_an_unexpected_exception():
    started = []

    def work(item):
        started.append(item)
        if item == 3:
            raise KeyError(item)
        return item

    with pytest.raises(KeyError):
        fan_out(work, list(range(1, 10)), 1)
    assert started == [1, 2, 3]


def test_fan_out_uses_no_more_threads_than_items():
    names = set()

    def work(item):
        names.add(threading.current_thread().name)
        return item

    assert [triple[1] for triple in fan_out(work, [7, 8], 16)] == [7, 8]
    assert len(names) <= 2
