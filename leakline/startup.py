"""What `leakline serve` says when it starts: where its settings, data and outgoing mail are."""

from __future__ import annotations

from leakline.config import DEFAULT_MANAGERS, Config

DEFAULTS_SOURCE = "built-in defaults (no --config, no $LEAKLINE_CONFIG, no ./leakline.toml)"


def startup_lines(config: Config) -> list[str]:
    """Config path, data_dir, managers and transport, one line each."""
    source = str(config.source.resolve()) if config.source else DEFAULTS_SOURCE
    lines = [f"config: {source}", f"data: {config.service.data_dir.resolve()}"]
    default = " (built-in default; set [[managers]])" if config.managers == DEFAULT_MANAGERS else ""
    for manager in config.managers:
        lines.append(f"manager: {manager.name} <{manager.email}> ({manager.role}){default}")
    if not config.managers:
        lines.append("manager: none: nobody is escalated to; set [[managers]]")
    lines.append(f"transport: {transport_line(config)}")
    return lines


def transport_line(config: Config) -> str:
    mail = config.mail
    if mail.transport == "smtp":
        security = "implicit TLS" if mail.tls else "STARTTLS" if mail.starttls else "no TLS"
        return f"smtp relay {mail.relay_host}:{mail.relay_port} ({security})"
    return (f"maildir: outgoing mail is written to {(config.service.data_dir / 'mail-out').resolve()}/ "
            "(open it with any mail client)")


def startup_warnings(config: Config) -> list[str]:
    """Settings that run but are probably not what was meant."""
    domains = ", ".join(config.organization.domains) or "none"
    return [f"warning: manager {m.email} is outside organization.domains ({domains}): case details "
            "are mailed outside the organisation, and a reply from there counts as external "
            "(it cannot acknowledge)"
            for m in config.managers if not config.organization.is_internal(m.email)]
