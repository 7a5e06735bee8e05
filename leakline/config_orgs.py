"""[[organizations]]: several organisations in one service, each with its own keys and managers.

Each entry has every key of [organization] (with its [organizations.contact]), an `id`, the keys
that are per organisation (`case_prefix`, `retention_days`, `ack_within_minutes`, `mail_from`,
`templates_dir`) and its own [[organizations.managers]]. `[service] retention_days` and
`[escalation] ack_within_minutes` are then the defaults of every organisation; `[service]
case_prefix` and `[mail] from` cannot be shared and are refused. Read by config.from_dict.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from leakline.config import (
    Config, Escalation, Org, Organization, OrgTable, Service, Unscoped, _managers, _organization,
    _positive, _Section,
)

REQUIRED = ("id", "name", "domains")
BLANK = Organization(id="", name="", incident_address="", domains=())


def default_prefix(org_id: str) -> str:
    """ACME-2026-0001 for the organisation `acme`: its id in capitals, letters and digits only."""
    return re.sub(r"[^A-Za-z0-9]", "", org_id).upper()


def several(raw: dict, errors: list[str], **parts: Any) -> Config:
    """The Config of a file with [[organizations]]; `parts` are the service-wide sections read
    already (service, mail, escalation, cli, source)."""
    for key in ("organization", "managers"):
        if key in raw:
            errors.append(f"{key}: not together with [[organizations]]; give each organisation its "
                          "own keys and [[organizations.managers]]")
    if "case_prefix" in (raw.get("service") or {}):
        errors.append("service.case_prefix: set per organisation (organizations[].case_prefix) "
                      "when there are [[organizations]]")
    if (raw.get("mail") or {}).get("from"):
        errors.append("mail.from: set per organisation (organizations[].mail_from) when there are "
                      "[[organizations]]")
    items = raw["organizations"]
    if not isinstance(items, list) or not items:
        errors.append("organizations: must be an array of tables ([[organizations]]), at least one")
        items = []
    orgs = [_one(item, f"organizations[{i}]", parts["service"], parts["escalation"], errors)
            for i, item in enumerate(items)]
    _unique(orgs, errors)
    config = Config(organization=Unscoped("organization"), managers=Unscoped("managers"),
                    orgs=OrgTable(orgs), **parts)
    if len(orgs) == 1:  # one organisation: the unscoped Config is that organisation's
        config = replace(config.for_org(orgs[0].id), scope=None)
    return config


def _one(item: Any, name: str, service: Service, escalation: Escalation, errors: list[str]) -> Org:
    s = _Section(item, name, errors)
    for key in REQUIRED:
        if key not in s.raw:
            s.fail(f"{name}.{key}: missing")
    organization = _organization(s, BLANK)
    prefix = s.take("case_prefix", str, default_prefix(organization.id))
    if not prefix or not prefix.isalnum() or not prefix.isascii():
        s.fail(f"{name}.case_prefix: letters and digits only, got {prefix!r}")
    s.asked.add("managers")
    managers = _managers(s.raw.pop("managers"), errors, f"{name}.managers") \
        if "managers" in s.raw else ()
    if not any(m.role == "privacy_officer" for m in managers):
        s.fail(f"{name}.managers: at least one [[{name.split('[')[0]}.managers]] with role "
               "privacy_officer (told of every case) is needed")
    org = Org(organization, managers, case_prefix=prefix,
              retention_days=_positive(s, "retention_days", service.retention_days),
              ack_within_minutes=_positive(s, "ack_within_minutes", escalation.ack_within_minutes),
              mail_from=s.address("mail_from", "").lower())
    s.done()
    return org


def _unique(orgs: list[Org], errors: list[str]) -> None:
    """Ids, incident addresses and case prefixes name one organisation each; no organisation
    sends From another's incident address (its replies would land there)."""
    seen: dict[tuple[str, str], int] = {}
    for i, org in enumerate(orgs):
        for key, value in (("id", org.id), ("incident_address", org.organization.incident_address),
                           ("case_prefix", org.case_prefix.upper())):
            if not value:
                continue
            first = seen.setdefault((key, value), i)
            if first != i:
                errors.append(f"organizations[{i}].{key}: {value!r} is organizations[{first}]'s too")
    for i, org in enumerate(orgs):
        other = seen.get(("incident_address", org.mail_from))
        if org.mail_from and other is not None and other != i:
            errors.append(f"organizations[{i}].mail_from: {org.mail_from!r} is the incident address "
                          f"of organizations[{other}]; replies to this organisation's mail would "
                          "reach that one")

