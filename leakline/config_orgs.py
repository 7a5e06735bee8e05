"""Organisations: `Org` and the `OrgTable` of a service, and [[organizations]] as the file gives them.

Each entry has every key of [organization] (with its [organizations.contact]), an `id`, the keys
that are per organisation (`case_prefix`, `retention_days`, `ack_within_minutes`, `mail_from`,
`templates_dir`) and its own [[organizations.managers]]. `[service] retention_days` and
`[escalation] ack_within_minutes` are then the defaults of every organisation; `[service]
case_prefix` and `[mail] from` cannot be shared and are refused. Read by config.from_dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator

from leakline.config import (
    DEFAULT_MANAGERS, PRIVACY_OFFICER, Config, Escalation, Manager, Organization, OrgScopeError,
    Service, UnknownOrg, _managers, _organization, _positive, _Section,
)


class Unscoped:
    """Stands for `organization` and `managers` in a Config of several organisations that was not
    scoped to one: any use raises OrgScopeError instead of quietly taking some organisation's."""

    def __init__(self, what: str):
        self._what = what

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise OrgScopeError(f"{self._what}.{name}: several organisations are configured; "
                            "this needs one (Config.for_org, --org)")

    def __iter__(self):
        raise OrgScopeError(f"{self._what}: several organisations are configured; this needs one")

    def __repr__(self) -> str:
        return f"Unscoped({self._what!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Unscoped) and other._what == self._what

    def __hash__(self) -> int:
        return hash(self._what)


@dataclass(frozen=True)
class Org:
    """One organisation the service answers for: its [organization] keys, its managers, and the
    keys that are per organisation (in a single-organisation config they live where they always
    did: [service] case_prefix and retention_days, [escalation] ack_within_minutes, [mail] from)."""

    organization: Organization
    managers: tuple[Manager, ...] = DEFAULT_MANAGERS
    case_prefix: str = "INC"
    retention_days: int = 1825
    ack_within_minutes: int = 60
    mail_from: str = ""  # empty: the incident address

    @property
    def id(self) -> str:
        return self.organization.id

    @property
    def from_address(self) -> str:
        return self.mail_from or self.organization.incident_address


class OrgTable:
    """The organisations of one service, looked up by id, incident address and case prefix in
    constant time (one config may hold thousands)."""

    def __init__(self, orgs: Iterable[Org]):
        self.by_id: dict[str, Org] = {org.id: org for org in orgs}
        self.by_address = {org.organization.incident_address.lower(): org.id
                           for org in self.by_id.values()}
        self.by_prefix = {org.case_prefix.upper(): org.id for org in self.by_id.values()}
        # Every address we send from or receive at: loop guards treat them all as our own.
        self.own_addresses = frozenset(
            address.lower() for org in self.by_id.values()
            for address in (org.organization.incident_address, org.from_address) if address)

    def __iter__(self) -> Iterator[Org]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, org_id: object) -> bool:
        return org_id in self.by_id

    def __getitem__(self, org_id: str) -> Org:
        try:
            return self.by_id[org_id]
        except KeyError:
            raise UnknownOrg(org_id, self.by_id) from None

    def ids(self) -> list[str]:
        return list(self.by_id)

    def for_address(self, address: str) -> str | None:
        """The id of the organisation whose incident address this is, or None."""
        return self.by_address.get((address or "").strip().strip("<>").lower())

    def for_case_id(self, case_id: str | None) -> str | None:
        """The organisation a case id belongs to, by its prefix (prefixes are unique)."""
        prefix = (case_id or "").partition("-")[0].upper()
        return self.by_prefix.get(prefix) if prefix else None

    def __eq__(self, other) -> bool:
        return isinstance(other, OrgTable) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(tuple(self))


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
    if not any(m.role == PRIVACY_OFFICER for m in managers):
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

