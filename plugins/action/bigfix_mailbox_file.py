# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for bigfix_mailbox_file: find ``src`` on the controller the way ansible.builtin.copy
does (role and playbook ``files/``, Vault decryption), send it to where the module runs unless the
module runs on the controller and can read it there, then run the module on it."""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

MODULE = "bigfix.core.bigfix_mailbox_file"


class ActionModule(ActionBase):
    """Resolve and transfer ``src``, then run the module."""

    TRANSFERS_FILES = True
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # unused: the temporary directory belongs to the connection's shell
        args = dict(self._task.args)
        src = args.get("src")
        try:
            if src is None:
                return self._run_module(result, args, task_vars)
            if args.get("name") is None:
                args["name"] = os.path.basename(src)
            if args.get("state", "present") == "absent":
                # Only the name matters for removal; nothing needs to travel.
                del args["src"]
                return self._run_module(result, args, task_vars)
            try:
                found = self._find_needle("files", src)
            except AnsibleError as exc:
                return dict(result, failed=True, msg="src %r was not found on the controller (searched the role's and "
                                                     "the playbook's files/ directories): %s" % (src, exc.message))
            if os.path.isdir(found):
                return dict(result, failed=True, msg="src %r is a directory; give a file" % src)
            try:
                real = self._loader.get_real_file(found, decrypt=True)
            except AnsibleError as exc:
                return dict(result, failed=True, msg="src %r cannot be read on the controller: %s" % (src, exc.message))
            try:
                args["src"] = os.path.abspath(real) if self._module_reads_controller_files() else self._send(real)
                return self._run_module(result, args, task_vars)
            finally:
                self._loader.cleanup_tmp_file(real)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _module_reads_controller_files(self):
        """Whether the module can read ``src`` where it is on the controller, which saves a copy of the whole
        file per task: it runs there (local connection), as the same user (no become), and not in the
        background, which would outlive the decrypted copy of a vaulted file."""
        return self._connection.transport == "local" and not self._connection.become and not self._task.async_val

    def _send(self, path):
        """Copy ``path`` into the task's temporary directory where the module runs; returns the copy's path."""
        remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "mailbox-source")
        self._transfer_file(path, remote)
        self._fixup_perms2((self._connection._shell.tmpdir, remote))
        return remote

    def _run_module(self, result, args, task_vars):
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                           wrap_async=self._task.async_val))
        return result
