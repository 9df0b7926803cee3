# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target computers of the mailbox modules; the code is in module_utils/arguments.py."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """``computer_id``, ``computers`` and ``concurrency``."""

    DOCUMENTATION = r"""
options:
  computer_id:
    description:
      - ID of the one computer whose mailbox the module works on.
      - Exactly one of O(computer_id) and O(computers) is required.
    type: int
  computers:
    description:
      - IDs of the computers whose mailboxes the module works on. Repeated IDs are handled once.
      - Exactly one of O(computer_id) and O(computers) is required.
    type: list
    elements: int
  concurrency:
    description:
      - How many computers are handled at the same time, which is also the number of connections opened to the BigFix server.
      - This is load on the BigFix root server. Raise it with care on a busy server; between V(1) and V(64).
    type: int
    default: 8
"""
