#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: launch_report
short_description: Write the launch report (JSON, Markdown, HTML, JUnit XML) of one site
version_added: 0.1.0
description:
  - Writes C(report.json), C(report.md), C(report.html) and C(junit.xml) into O(dest) on the controller.
  - The risk list ranks failing findings by impact, then stage, then check id.
  - With O(merge), findings of checks that did not run this time are kept from the previous
    report, so every stage adds to one report.
  - Each file is written beside its target and renamed into place, so no reader sees half a report.
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description: The site's apex domain, as shown in the report.
    type: str
    required: true
  findings:
    description: Findings in the report format, for example from M(launchready.ops.audit_site).
    type: list
    elements: dict
    required: true
  dest:
    description: The directory to write the reports into.
    type: path
    required: true
  merge:
    description: Keep findings of checks that did not run this time from the previous report.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written; the result's C(changed) says whether the report would change.
  diff_mode:
    support: none
    description: Nothing on a managed host changes, so there is nothing to diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
seealso:
  - module: launchready.ops.audit_site
"""

EXAMPLES = r"""
- name: Write the reports
  launchready.ops.launch_report:
    site: "{{ launch_domain }}"
    findings: "{{ audit.findings }}"
    dest: "{{ launch_report_dir }}/{{ inventory_hostname }}"
"""

RETURN = r"""
paths:
  description: Path of each report file.
  returned: always
  type: dict
  sample: {report.json: reports/shop.test/report.json}
verdict:
  description: The launch verdict over the whole (merged) report.
  returned: success
  type: str
  sample: pass
counts:
  description: How many findings have each status.
  returned: success
  type: dict
summary:
  description: A short ranked summary, one line each, for the terminal.
  returned: success
  type: list
  elements: str
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "str", "required": True},
    "findings": {"type": "list", "elements": "dict", "required": True},
    "dest": {"type": "path", "required": True},
    "merge": {"type": "bool", "default": True},
}}
