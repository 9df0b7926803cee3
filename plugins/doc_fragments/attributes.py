# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by bigfix.core modules."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """``bigfix.core.attributes.action_group`` for every module; ``bigfix.core.attributes.info`` for read-only ones."""

    DOCUMENTATION = r"""
options: {}
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/bigfix.core.bigfix) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - bigfix.core.bigfix
"""

    INFO = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything, so it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""
