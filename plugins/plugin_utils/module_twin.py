# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every action plugin that has a module of the same name (its twin).

The twin (``plugins/modules/NAME.py``) documents the options and holds their spec as
``MODULE_SPEC`` (the keyword arguments of AnsibleModule: ``argument_spec``, ``required_if``,
...). The action plugin validates the task's arguments with that same spec, imported, never
declared a second time, so the documentation, the module and the plugin cannot drift apart.
A bad argument fails the task before any work with the message a module would give.
"""

from __future__ import annotations

import importlib

from ansible.plugins.action import ActionBase

# The AnsibleModule keywords that are about the arguments (not supports_check_mode and the like).
VALIDATION_KEYS = ("argument_spec", "mutually_exclusive", "required_together", "required_one_of", "required_if",
                   "required_by")


def twin_spec(action_module_name: str) -> dict:
    """MODULE_SPEC of the module twin of the action plugin ``action_module_name``
    (ansible_collections.NS.COLL.plugins.action.NAME)."""
    package, _sep, name = action_module_name.rpartition(".action.")
    if not _sep:
        raise ValueError("%s is not an action plugin of a collection" % action_module_name)
    return importlib.import_module("%s.modules.%s" % (package, name)).MODULE_SPEC


class TwinActionBase(ActionBase):
    """An action plugin whose arguments are those of its module twin (see the file header)."""

    TRANSFERS_FILES = False

    def validated_args(self) -> dict:
        """The task's arguments, validated, coerced and with defaults, by the twin's spec;
        AnsibleActionFail (the task fails, even in check mode) when they do not fit it."""
        spec = twin_spec(type(self).__module__)
        _validation, args = self.validate_argument_spec(**{k: spec[k] for k in VALIDATION_KEYS if k in spec})
        return args
