"""Action plugins and their module twins share one argument spec (issue #14 item 6).

Every action plugin with a module of the same name validates its task arguments with
that module's MODULE_SPEC (imported, not re-declared), and that spec is what the module
documents: option names, types, defaults, required and choices. validate-modules compares
a module's own spec with its documentation only when the module runs AnsibleModule; for
the modules that are only documentation (the work is in the action plugin) this test does.
"""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible_collections.launchready.ops.plugins.plugin_utils import module_twin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "ansible_collections.launchready.ops.plugins"
ACTIONS = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "action"))
                 if name.endswith(".py") and not name.startswith("_"))


def test_every_action_plugin_has_a_module_twin():
    assert ACTIONS
    for name in ACTIONS:
        assert os.path.exists(os.path.join(ROOT, "plugins", "modules", name + ".py")), name


@pytest.mark.parametrize("name", ACTIONS)
def test_action_plugin_validates_with_its_modules_spec(name):
    action = importlib.import_module("%s.action.%s" % (PACKAGE, name))
    module = importlib.import_module("%s.modules.%s" % (PACKAGE, name))
    assert issubclass(action.ActionModule, module_twin.TwinActionBase)
    assert not hasattr(action, "ARGUMENT_SPEC"), "the spec is the module's MODULE_SPEC, not a copy"
    assert module_twin.twin_spec(action.__name__) is module.MODULE_SPEC


@pytest.mark.parametrize("name", ACTIONS)
def test_module_spec_is_what_the_module_documents(name):
    module = importlib.import_module("%s.modules.%s" % (PACKAGE, name))
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = module.MODULE_SPEC["argument_spec"]
    assert sorted(spec) == sorted(documented)
    for option, rule in spec.items():
        doc = documented[option]
        assert rule.get("type", "str") == doc.get("type", "str"), option
        assert rule.get("default") == doc.get("default"), option
        assert bool(rule.get("required")) == bool(doc.get("required")), option
        assert sorted(rule.get("choices") or []) == sorted(doc.get("choices") or []), option
        if "elements" in rule or "elements" in doc:
            assert rule.get("elements") == doc.get("elements"), option


def test_twin_spec_refuses_a_name_that_is_not_an_action_plugin():
    with pytest.raises(ValueError):
        module_twin.twin_spec("%s.module_utils.release" % PACKAGE)
