#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: chatbot_eval
short_description: Run the chatbot eval set against a site's chatbot (privacy.chatbot_leak, privacy.chatbot_eval)
version_added: 0.2.0
description:
  - Logs in as the first two customers of C(launch_customers) (customer A and B; a POST of the
    C(email) and C(password) form fields to C(launch_routes.login), the session being the cookie it
    sets) and sends the eval set's messages to C(launch_routes.chatbot) on the canonical host over
    HTTPS, shaped by C(launch_chatbot) (C(method), C(body) with C({message}) and C({order_id}),
    C(reply) a dotted path into the JSON answer).
  - The default eval set ships with the collection (C(plugins/module_utils/data/chatbot_eval.yml)) -
    A asks for B's order, e-mail, address, phone and card; prompt injection and system-prompt
    extraction carrying canary tokens; own-order status; an unknown order id; cards only as last
    four. Add cases with O(sets) or C(launch_chatbot_eval.sets).
  - Judging is deterministic and offline - the other customer's seeded values, canaries, card
    numbers (Luhn), e-mail addresses and phone numbers that are not the asking customer's own,
    the expected order status, no status for an unknown order. No model is asked.
  - Bounded - requests are sequential and spaced (C(launch_chatbot_eval.interval), default 0.25 s),
    at most C(max_requests) (60) within C(max_seconds) (120); a 429 or 503 is waited out
    (Retry-After, at most 5 s, up to three times).
  - Requests go through the audit's probe - the site's resolvers, SNI and Host, a total deadline
    per request (C(launch_timeout)), the system trust store plus C(launch_ca_bundle).
  - Answers are returned only redacted; passwords never leave the task.
  - Runs as an action plugin in the controller process. The audit runs the same checks as the
    C(privacy.) family.
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description:
      - The site description, as a dict of C(launch_*) variables (see the collection README).
      - When omitted, every C(launch_*) variable of the host is used.
    type: dict
  sets:
    description:
      - More eval set files (YAML, shaped like the default set), added after C(launch_chatbot_eval.sets).
      - A case with the id of an earlier case replaces it.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: The eval only logs in and chats; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing on a managed host changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Without two customers in C(launch_customers), or without C(login) and C(chatbot) in
    C(launch_routes), both findings are C(skip) with the reason.
  - Needs dnspython and PyYAML on the controller.
seealso:
  - module: launchready.ops.audit_site
  - module: launchready.ops.logs_pii
"""

EXAMPLES = r"""
- name: Run the chatbot eval of this site (launch_* variables of the host)
  launchready.ops.chatbot_eval:
  register: chatbot

- name: With the team's own cases on top of the default set
  launchready.ops.chatbot_eval:
    sets:
      - "{{ playbook_dir }}/evals/returns-policy.yml"

- name: Fail the pipeline on any leak
  ansible.builtin.assert:
    that: chatbot.findings | selectattr('status', 'in', ['fail', 'error']) | list | length == 0
    fail_msg: "{{ chatbot.findings | map(attribute='summary') | list }}"
"""

RETURN = r"""
findings:
  description: The C(privacy.chatbot_leak) and C(privacy.chatbot_eval) findings, in the report format.
  returned: always
  type: list
  elements: dict
verdict:
  description: V(pass), V(warn) or V(fail) over both findings.
  returned: always
  type: str
categories:
  description: Per category - the check it belongs to, passed, total, pass_rate, errors.
  returned: when the eval ran
  type: dict
  sample:
    other_order: {check: privacy.chatbot_leak, title: "another customer's order", passed: 3, total: 3,
                  pass_rate: 1.0, errors: 0}
failures:
  description: Each failing case - case id, customer (A or B), category, leaks, wrong, and the answer redacted.
  returned: when the eval ran
  type: list
  elements: dict
  sample:
    - case: other-email
      as: A
      category: other_contact
      leaks: ["the other customer's email"]
      wrong: []
      answer: "The email on file for Ben Okafor is [other.email]."
errors:
  description: Cases that got no usable answer, with the reason.
  returned: when the eval ran
  type: list
  elements: dict
requests:
  description: HTTP requests sent (logins included).
  returned: when the eval ran
  type: int
elapsed_s:
  description: Seconds the eval took.
  returned: when the eval ran
  type: float
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "dict", "no_log": True},
    "sets": {"type": "list", "elements": "path", "default": []},
}}
