# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings for every unit test: Hypothesis keeps no example database and writes its caches to a
temporary directory, never into the checkout, and has no per-example deadline."""

from __future__ import annotations

import atexit
import shutil
import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="bigfix-core-unit-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)

settings.register_profile("bigfix-core-unit", database=None, deadline=None, print_blob=False)
settings.load_profile("bigfix-core-unit")
