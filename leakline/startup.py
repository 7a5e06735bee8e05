"""What `leakline serve` says when it starts: where its settings, data and outgoing mail are."""

from __future__ import annotations

from collections import defaultdict

from leakline.config import DEFAULT_MANAGERS, Config

DEFAULTS_SOURCE = "built-in defaults (no --config, no $LEAKLINE_CONFIG, no ./leakline.toml)"
SHOWN_ORGS = 5


def startup_lines(config: Config) -> list[str]:
    """Config path, data_dir, managers (or organisations) and transport, one line each."""
    source = str(config.source.resolve()) if config.source else DEFAULTS_SOURCE
    lines = [f"config: {source}", f"data: {config.service.data_dir.resolve()}"]
    orgs = list(config.organizations)
    if len(orgs) == 1:
        lines += _manager_lines(orgs[0].managers)
    else:
        for org in orgs[:SHOWN_ORGS]:
            lines.append(f"organisation: {org.id} <{org.organization.incident_address}> "
                         f"{org.case_prefix}, {org.organization.language}, "
                         f"{len(org.managers)} manager(s)")
        if len(orgs) > SHOWN_ORGS:
            lines.append(f"organisation: … and {len(orgs) - SHOWN_ORGS} more (`leakline org list`)")
    lines.append(f"transport: {transport_line(config)}")
    return lines


def _manager_lines(managers) -> list[str]:
    default = " (built-in default; set [[managers]])" if managers == DEFAULT_MANAGERS else ""
    lines = [f"manager: {m.name} <{m.email}> ({m.role}){default}" for m in managers]
    return lines or ["manager: none: nobody is escalated to; set [[managers]]"]


def transport_line(config: Config) -> str:
    mail = config.mail
    if mail.transport == "smtp":
        security = "implicit TLS" if mail.tls else "STARTTLS" if mail.starttls else "no TLS"
        return f"smtp relay {mail.relay_host}:{mail.relay_port} ({security})"
    return (f"maildir: outgoing mail is written to {(config.service.data_dir / 'mail-out').resolve()}/ "
            "(open it with any mail client)")


def startup_warnings(config: Config) -> list[str]:
    """Settings that run but are probably not what was meant."""
    several = len(config.organizations) > 1
    warnings = []
    for org in config.organizations:
        o = org.organization
        where = f"{org.id}: " if several else ""
        domains = ", ".join(o.domains) or "none"
        warnings += [f"warning: {where}manager {m.email} is outside organization.domains ({domains}): "
                     "case details are mailed outside the organisation, and a reply from there "
                     "counts as external (it cannot acknowledge)"
                     for m in org.managers if not o.is_internal(m.email)]
    return warnings + _shared_domains(config) + _orphans(config)


def _shared_domains(config: Config) -> list[str]:
    """A domain of several organisations makes its staff internal to each of them."""
    owners = defaultdict(list)
    for org in config.organizations:
        for domain in org.organization.domains:
            owners[domain].append(org.id)
    return [f"warning: the domain {domain} is in the domains of {', '.join(ids)}: its senders are "
            "internal (and get case details) for each of them" for domain, ids in owners.items()
            if len(ids) > 1]


def _orphans(config: Config) -> list[str]:
    from leakline.orgadmin import orphaned

    return [f"warning: {config.service.data_dir / 'orgs' / name} holds the data of no configured "
            "organisation (removed from the file? `leakline org purge` removes it)"
            for name in orphaned(config)]
