"""The service configuration: one TOML file, checked key by key, with defaults that run as they are."""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_FILE = "leakline.toml"
PRIVACY_OFFICER = "privacy_officer"  # the role told of every case, every duty and every failure
ROLES = (PRIVACY_OFFICER, "supervisor", "executive")  # also the order roles are named in
LANGUAGES = ("ja", "en")
TRANSPORTS = ("maildir", "smtp")
STORE_BACKENDS = ("tinydb", "postgresql")
GDPR_ROLES = ("controller", "processor")
SECTORS = ("", "financial")
# The id of the one organisation of a config with a single [organization] (unless it sets `id`).
DEFAULT_ORG_ID = "default"
# Short, and safe as a folder name: it names the organisation's subtree, data_dir/orgs/<id>/.
ORG_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


class ConfigError(Exception):
    """A wrong or missing configuration value; the message names the key (one line per error)."""

    def __init__(self, message: str, errors: tuple[str, ...] = ()):
        super().__init__(message)
        self.errors = tuple(errors) or (message,)


@dataclass(frozen=True)
class Manager:
    name: str
    email: str
    role: str
    covers: tuple[str, ...] = ()

    def covers_address(self, address: str) -> bool:
        address = address.lower()
        return any(fnmatch.fnmatchcase(address, pattern.lower()) for pattern in self.covers)


@dataclass(frozen=True)
class Service:
    data_dir: Path = Path("leakline-data")
    host: str = "127.0.0.1"
    port: int = 8025
    timezone: str = "Asia/Tokyo"
    max_message_bytes: int = 26214400
    case_prefix: str = "INC"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    retention_days: int = 1825
    # Hosts that relay only mail their own users authenticated (CIDRs); loopback by default.
    trusted_relays: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # Whether `leakline ingest` (an MTA pipe: no peer address) counts as a trusted relay.
    ingest_trusted: bool = False
    max_command_line_bytes: int = 4096
    max_data_line_bytes: int = 1048576
    max_connections: int = 200
    max_connections_per_peer: int = 50
    require_starttls: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_trusted_relay(self, peer: str | None) -> bool:
        """Whether mail from `peer` (an IP address, or "pipe" for ingest) comes from a trusted relay."""
        if peer == "pipe":
            return self.ingest_trusted
        try:
            address = ipaddress.ip_address((peer or "").split("%")[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in ipaddress.ip_network(n) for n in self.trusted_relays)


@dataclass(frozen=True)
class Contact:
    """The privacy office the authorities call back, and the desk the persons and the public call."""

    name: str = ""
    phone: str = ""
    email: str = ""
    enquiry_desk: str = ""


@dataclass(frozen=True)
class Organization:
    id: str = DEFAULT_ORG_ID
    name: str = "Example Co., Ltd."
    incident_address: str = "incident@example.com"
    domains: tuple[str, ...] = ("example.com",)
    language: str = "ja"
    privacy_mark: bool = True
    report_to: str = "個人情報保護委員会"
    gdpr: bool = False
    gdpr_role: str = "controller"
    gdpr_processor_notice_hours: int = 24
    sector: str = ""
    sector_report_to: str = "金融庁"
    review_body: str = "審査機関"
    # The reporter block of the drafts (the PPC's form asks for each).
    legal_name: str = ""
    corporate_number: str = ""
    address: str = ""
    representative: str = ""
    industry: str = ""
    contact: Contact = field(default_factory=Contact)
    # Templates that override the built-in ones by name (<lang>/<name>.j2); None: built-ins only.
    templates_dir: Path | None = None

    def is_internal(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


@dataclass(frozen=True)
class Mail:
    transport: str = "maildir"
    sender: str = ""  # the From address; empty means the incident address
    relay_host: str = "localhost"
    relay_port: int = 25
    starttls: bool = False
    tls: bool = False
    username: str = ""
    password_env: str = ""
    # The authserv-id (RFC 8601) of our own MTA's Authentication-Results headers; "" = none.
    authserv_id: str = ""
    # Check DKIM (and DMARC alignment) ourselves for senders that claim our domain.
    verify_dkim: bool = False

    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class StoreSettings:
    """`[store]`: where cases, the outbox and the audit chain live. "tinydb" (the default):
    files under data_dir; "postgresql": one database shared by every node (store/pg/)."""

    backend: str = "tinydb"
    url: str = ""  # postgresql://user@host:port/db, never with the password
    password_env: str = ""  # the environment variable holding the database password

    @property
    def shared(self) -> bool:
        return self.backend == "postgresql"

    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class Cli:
    """Settings of the command line: `user` is the default of every `--by`."""

    user: str = ""


@dataclass(frozen=True)
class Escalation:
    ack_within_minutes: int = 60
    reply_window_minutes: int = 60
    external_receipt: bool = True


# With no [[managers]] the defaults still escalate somewhere a new user can see (mail-out/).
DEFAULT_MANAGERS = (Manager("Privacy Officer", "privacy@example.com", PRIVACY_OFFICER),)


class OrgScopeError(RuntimeError):
    """Something that belongs to one organisation was asked of a Config of several that was not
    scoped to one (`Config.for_org`): a bug that would mix organisations, so it fails loudly."""


class UnknownOrg(LookupError):
    def __init__(self, org_id: str, known: Iterable[str] = ()):
        super().__init__(f"no organisation {org_id!r}" + did_you_mean(org_id, known)
                         + " (`leakline org list` shows them)")
        self.org_id = org_id


@dataclass(frozen=True)
class Config:
    service: Service = field(default_factory=Service)
    organization: Organization = field(default_factory=Organization)
    managers: tuple[Manager, ...] = DEFAULT_MANAGERS
    mail: Mail = field(default_factory=Mail)
    escalation: Escalation = field(default_factory=Escalation)
    source: Path | None = None
    cli: Cli = field(default_factory=Cli)
    # [[organizations]]: each organisation in its own subtree of data_dir (leakline/orgs.py).
    # None: the single [organization] of today, whose data stays at the root of data_dir.
    orgs: "OrgTable | None" = None
    # The organisation this Config was scoped to (for_org); None: not scoped.
    scope: str | None = None
    store: StoreSettings = field(default_factory=StoreSettings)

    @property
    def from_address(self) -> str:
        return self.mail.sender or self.organization.incident_address

    def managers_with(self, role: str) -> list[Manager]:
        return [m for m in self.managers if m.role == role]

    def privacy_officers(self) -> list[Manager]:
        """Who the privacy officers are: the managers of role privacy_officer."""
        return self.managers_with(PRIVACY_OFFICER)

    def officer_addresses(self) -> list[str]:
        """Where a duty or a failure is told: the privacy officers, or, with none configured,
        every manager (a person must be told)."""
        return [m.email for m in self.privacy_officers() or self.managers]

    def supervisors_of(self, address: str) -> list[Manager]:
        return [m for m in self.managers_with("supervisor") if m.covers_address(address)]

    def manager(self, address: str) -> Manager | None:
        address = address.lower()
        return next((m for m in self.managers if m.email.lower() == address), None)

    # -- organisations ----------------------------------------------------------------------
    @cached_property
    def organizations(self) -> "OrgTable":
        """Every organisation served; a single-organisation config has its one."""
        from leakline.config_orgs import Org, OrgTable

        if self.orgs is not None:
            return self.orgs
        return OrgTable([Org(self.organization, self.managers, self.service.case_prefix,
                             self.service.retention_days, self.escalation.ack_within_minutes,
                             self.mail.sender)])

    @property
    def org_subtrees(self) -> bool:
        """Whether each organisation's data lives in data_dir/orgs/<id>/ ([[organizations]])."""
        return self.orgs is not None

    @property
    def own_addresses(self) -> frozenset[str]:
        """The incident and From addresses of every organisation (loop guards: our own mail)."""
        return self.organizations.own_addresses

    @property
    def org(self) -> "Org":
        """The organisation of a scoped Config, or the only one; OrgScopeError otherwise."""
        if self.scope is not None:
            return self.organizations[self.scope]
        if len(self.organizations) == 1:
            return next(iter(self.organizations))
        raise OrgScopeError("several organisations are configured; this needs one (--org)")

    def for_org(self, org_id: str) -> "Config":
        """This Config as one organisation sees it: its organization, managers, case prefix,
        retention, ack window and From; UnknownOrg for an id that is not configured."""
        org = self.organizations[org_id]
        if self.scope == org.id:
            return self
        return replace(
            self, organization=org.organization, managers=org.managers, scope=org.id,
            service=replace(self.service, case_prefix=org.case_prefix,
                            retention_days=org.retention_days),
            escalation=replace(self.escalation, ack_within_minutes=org.ack_within_minutes),
            mail=replace(self.mail, sender=org.mail_from))


def sample_text(name: str = "sample.toml") -> str:
    """A commented sample configuration: sample.toml (one organisation) or sample_orgs.toml."""
    return resources.files("leakline").joinpath(name).read_text(encoding="utf-8")


def locate(explicit: str | os.PathLike | None) -> Path | None:
    """--config PATH, else $LEAKLINE_CONFIG, else ./leakline.toml, else None (built-in defaults)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("LEAKLINE_CONFIG")
    if env:
        return Path(env)
    local = Path(DEFAULT_FILE)
    return local if local.exists() else None


def load(explicit: str | os.PathLike | None = None) -> Config:
    path = locate(explicit)
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = from_dict(raw, source=path)
    except ConfigError as exc:
        if len(exc.errors) == 1:
            raise ConfigError(f"{path}: {exc}") from None
        raise ConfigError(f"{path}: {len(exc.errors)} errors:\n" + "\n".join(
            f"  {e}" for e in exc.errors), errors=exc.errors) from None
    return relative_to_file(config, path)


def relative_to_file(config: Config, path: Path) -> Config:
    """A relative data_dir (or templates_dir) is relative to the config file that names it: the
    MTA's pipe and `serve` then share one data_dir whatever folder each is started from."""
    base = path.parent
    data_dir = config.service.data_dir
    if not data_dir.is_absolute():
        config = replace(config, service=replace(config.service,
                                                 data_dir=Path(os.path.abspath(base / data_dir))))
    placed = _templates_relative_to(config, base)
    errors = _missing_folders(placed, relative_ok=False)
    if errors:
        raise ConfigError(f"{path}: " + "\n".join(errors), errors=tuple(errors))
    return placed


def _templates_relative_to(config: Config, base: Path) -> Config:
    from leakline.config_orgs import OrgTable, Unscoped

    def placed(org: Organization) -> Organization:
        folder = org.templates_dir
        if folder is None or folder.is_absolute():
            return org
        return replace(org, templates_dir=Path(os.path.abspath(base / folder)))

    if config.orgs is None:
        return replace(config, organization=placed(config.organization))
    table = OrgTable(replace(org, organization=placed(org.organization)) for org in config.orgs)
    if not isinstance(config.organization, Unscoped):  # one organisation: it is the unscoped one
        return replace(config, orgs=table, organization=placed(config.organization))
    return replace(config, orgs=table)


class _Section:
    """Reads one table of the file, naming `section.key` in every error.

    Errors are collected, not raised: a wrong value falls back to its default so that reading
    goes on, and the caller reports every error of the file at once.
    """

    def __init__(self, raw: Any, name: str, errors: list[str]):
        self.errors = errors
        self.name = name
        self.asked: set[str] = set()
        if not isinstance(raw, dict):
            self.fail(f"{name}: must be a table")
            raw = {}
        self.raw = dict(raw)

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def take(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.asked.add(key)
        if key not in self.raw:
            return default
        value = self.raw.pop(key)
        if isinstance(value, bool) and kind in (int, str):
            self.fail(f"{self.name}.{key}: expected {kind.__name__}, got {value!r}")
            return default
        if not isinstance(value, kind):
            expected = getattr(kind, "__name__", "value")
            self.fail(f"{self.name}.{key}: expected {expected}, got {value!r}")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.take(key, str, default)
        if value not in choices:
            self.fail(f"{self.name}.{key}: must be one of {', '.join(choices)}, got {value!r}"
                      + did_you_mean(value, choices))
            return default
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.take(key, list, list(default))
        if not all(isinstance(v, str) and v for v in value):
            self.fail(f"{self.name}.{key}: expected a list of strings")
            return tuple(default)
        return tuple(value)

    def address(self, key: str, default: str) -> str:
        value = self.take(key, str, default)
        if value and ("@" not in value or any(c in value for c in "\r\n <>,")):
            self.fail(f"{self.name}.{key}: not an email address: {value!r}")
            return default
        return value

    def done(self) -> None:
        for key in sorted(self.raw):
            self.fail(f"{self.name}.{key}: unknown key" + did_you_mean(key, self.asked))


def did_you_mean(word: Any, known: Any) -> str:
    """'; did you mean data_dir?' for a near miss (difflib), else ''."""
    close = difflib.get_close_matches(str(word), sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


SECTIONS = ("service", "organization", "managers", "organizations", "mail", "escalation", "cli",
            "store")


def from_dict(raw: dict, source: Path | None = None) -> Config:
    """The Config a parsed TOML table describes; ConfigError lists every error at once."""
    errors: list[str] = []
    for key in raw:
        if key not in SECTIONS:
            errors.append(f"{key}: unknown section" + did_you_mean(key, SECTIONS))

    def section(name: str) -> _Section:
        return _Section(raw.get(name, {}), name, errors)

    parts = {"service": _service(section("service")), "mail": _mail(section("mail")),
             "escalation": _escalation(section("escalation")), "source": source,
             "cli": _cli(section("cli")), "store": _store(section("store"))}
    if "organizations" in raw:
        from leakline.config_orgs import several

        config = several(raw, errors, **parts)
    else:
        config = Config(
            organization=_single_organization(section("organization")),
            managers=_managers(raw["managers"], errors) if "managers" in raw else DEFAULT_MANAGERS,
            **parts)
    errors += _missing_folders(config, relative_ok=source is not None)
    if errors:
        raise ConfigError("\n".join(errors), errors=tuple(errors))
    return config


def _missing_folders(config: Config, relative_ok: bool) -> list[str]:
    """templates_dir must be a folder; a relative one is checked once relative_to_file placed it."""
    errors = []
    for org in config.organizations:
        folder = org.organization.templates_dir
        if folder is None or (relative_ok and not folder.is_absolute()) or folder.is_dir():
            continue
        where = "organization" if config.orgs is None else f"organizations.{org.id}"
        errors.append(f"{where}.templates_dir: no such folder: {folder}")
    return errors


def _positive(section: _Section, key: str, default: int) -> int:
    value = section.take(key, int, default)
    if value <= 0:
        section.fail(f"{section.name}.{key}: must be a positive number, got {value}")
        return default
    return value


def _listen(s: _Section, d: Service) -> tuple[str, int]:
    listen = s.take("listen", str, f"{d.host}:{d.port}")
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        s.fail(f"service.listen: expected HOST:PORT, got {listen!r}")
        return d.host, d.port
    return host.strip("[]"), int(port)


def _service(s: _Section) -> Service:
    d = Service()
    host, port = _listen(s, d)
    timezone = s.take("timezone", str, d.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        s.fail(f"service.timezone: unknown time zone {timezone!r}")
        timezone = d.timezone
    prefix = s.take("case_prefix", str, d.case_prefix)
    if not prefix.isalnum() or not prefix.isascii():
        s.fail(f"service.case_prefix: letters and digits only, got {prefix!r}")
        prefix = d.case_prefix
    cert, key = s.take("tls_cert", str, ""), s.take("tls_key", str, "")
    if bool(cert) != bool(key):
        s.fail("service.tls_cert: tls_cert and tls_key must be set together")
        cert = key = ""
    service = Service(
        data_dir=Path(s.take("data_dir", str, str(d.data_dir))),
        host=host,
        port=port,
        timezone=timezone,
        max_message_bytes=_positive(s, "max_message_bytes", d.max_message_bytes),
        case_prefix=prefix,
        tls_cert=Path(cert) if cert else None,
        tls_key=Path(key) if key else None,
        retention_days=_positive(s, "retention_days", d.retention_days),
        trusted_relays=_networks(s, "trusted_relays", d.trusted_relays),
        ingest_trusted=s.take("ingest_trusted", bool, d.ingest_trusted),
        **_listener_limits(s, d),
    )
    if service.require_starttls and not service.tls_cert:
        raise ConfigError("service.require_starttls: needs tls_cert and tls_key")
    s.done()
    return service


def _one_line(s: _Section, key: str, default: str) -> str:
    value = s.take(key, str, default).strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        s.fail(f"{s.name}.{key}: must be one line of text")
        return default
    return value


def corporate_number_ok(number: str) -> bool:
    """法人番号: 13 digits, the first a check digit over the other 12 (法人番号の指定等に関する省令 Art. 2)."""
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        return False
    digits = [int(c) for c in reversed(number[1:])]
    total = sum(d * (1 if i % 2 == 0 else 2) for i, d in enumerate(digits))
    return int(number[0]) == 9 - total % 9


def _contact(raw: Any, errors: list[str], name: str = "organization.contact") -> Contact:
    s = _Section(raw, name, errors)
    phone = _one_line(s, "phone", "")
    if phone and not all(c.isdigit() or c in "+-() " for c in phone):
        s.fail(f"{name}.phone: digits, spaces, +, - and () only, got {phone!r}")
        phone = ""
    desk = s.take("enquiry_desk", str, "").strip()
    if any((ord(c) < 32 and c != "\n") or ord(c) == 127 for c in desk):
        s.fail(f"{name}.enquiry_desk: no control characters")
        desk = ""
    contact = Contact(name=_one_line(s, "name", ""), phone=phone, email=s.address("email", ""),
                      enquiry_desk=desk)
    s.done()
    return contact


def _reporter(s: _Section, d: Organization) -> dict:
    """The reporter block: legal name, 法人番号, address, representative, industry, contact."""
    number = _one_line(s, "corporate_number", d.corporate_number).replace("-", "").replace(" ", "")
    if number and not corporate_number_ok(number):
        s.fail(f"{s.name}.corporate_number: not a valid 法人番号 (13 digits with its "
               f"check digit), got {number!r}")
        number = d.corporate_number
    s.asked.add("contact")
    return {"legal_name": _one_line(s, "legal_name", d.legal_name), "corporate_number": number,
            "address": _one_line(s, "address", d.address),
            "representative": _one_line(s, "representative", d.representative),
            "industry": _one_line(s, "industry", d.industry),
            "contact": _contact(s.raw.pop("contact"), s.errors, f"{s.name}.contact")
            if "contact" in s.raw else Contact()}


def _networks(s: _Section, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = s.take(key, list, list(default))
    networks = []
    for item in value:
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except (TypeError, ValueError):
            raise ConfigError(f"{s.name}.{key}: not an address or CIDR network: {item!r}") from None
    return tuple(networks)


def _listener_limits(s: _Section, d: Service) -> dict:
    command_line = _positive(s, "max_command_line_bytes", d.max_command_line_bytes)
    if command_line < 1024:
        raise ConfigError("service.max_command_line_bytes: at least 1024 (RFC 5321 allows 512 "
                          f"bytes plus extensions), got {command_line}")
    return {
        "max_command_line_bytes": command_line,
        "max_data_line_bytes": _positive(s, "max_data_line_bytes", d.max_data_line_bytes),
        "max_connections": _positive(s, "max_connections", d.max_connections),
        "max_connections_per_peer": _positive(s, "max_connections_per_peer",
                                              d.max_connections_per_peer),
        "require_starttls": s.take("require_starttls", bool, d.require_starttls),
    }


def _organization(s: _Section, d: Organization = Organization(), *, required: tuple[str, ...] = ()) -> Organization:
    """The keys of one organisation ([organization], or one of [[organizations]]); `required`
    keys must be given (an organisation among several has no defaults to fall back on)."""
    for key in required:
        if key not in s.raw:
            s.fail(f"{s.name}.{key}: missing")
    org = Organization(
        id=_org_id(s, d.id),
        name=s.take("name", str, d.name),
        incident_address=s.address("incident_address", d.incident_address).lower(),
        domains=tuple(x.lower() for x in s.strings("domains", d.domains)),
        language=s.choice("language", LANGUAGES, d.language),
        privacy_mark=s.take("privacy_mark", bool, d.privacy_mark),
        report_to=_one_line(s, "report_to", d.report_to) or d.report_to,
        gdpr=s.take("gdpr", bool, d.gdpr),
        gdpr_role=s.choice("gdpr_role", GDPR_ROLES, d.gdpr_role),
        gdpr_processor_notice_hours=_positive(s, "gdpr_processor_notice_hours",
                                              d.gdpr_processor_notice_hours),
        sector=s.choice("sector", SECTORS, d.sector),
        sector_report_to=_one_line(s, "sector_report_to", d.sector_report_to) or d.sector_report_to,
        review_body=_one_line(s, "review_body", d.review_body) or d.review_body,
        templates_dir=_folder(s, "templates_dir"),
        **_reporter(s, d),
    )
    if not org.incident_address:
        s.fail(f"{s.name}.incident_address: must be set")
    if any(c in org.name for c in "\r\n"):
        s.fail(f"{s.name}.name: must be one line")
    return org


def _org_id(s: _Section, default: str) -> str:
    if "id" not in s.raw:
        return default
    value = s.take("id", str, default)
    if not ORG_ID.match(value):
        s.fail(f"{s.name}.id: 1 to 32 of a-z, 0-9 and '-' (not first or last), got {value!r}")
        return default
    return value


def _folder(s: _Section, key: str) -> Path | None:
    """A folder named in the file; relative to the file (relative_to_file), checked there."""
    value = s.take(key, str, "")
    return Path(value) if value else None


def _single_organization(s: _Section) -> Organization:
    org = _organization(s)
    s.done()
    return org


def _managers(raw: Any, errors: list[str], name: str = "managers") -> tuple[Manager, ...]:
    if not isinstance(raw, list):
        errors.append(f"{name}: must be an array of tables ([[{name}]])")
        return DEFAULT_MANAGERS
    managers = []
    for i, item in enumerate(raw):
        s = _Section(item, f"{name}[{i}]", errors)
        email = s.address("email", "")
        if not email:
            s.fail(f"{name}[{i}].email: missing")
        role = s.take("role", str, "")
        if role not in ROLES:
            s.fail(f"{name}[{i}].role: must be one of {', '.join(ROLES)}, got {role!r}"
                   + did_you_mean(role, ROLES))
        managers.append(Manager(
            name=s.take("name", str, email), email=email.lower(), role=role,
            covers=s.strings("covers", ()),
        ))
        s.done()
    return tuple(managers)


def _mail(s: _Section) -> Mail:
    d = Mail()
    if "password" in s.raw:
        s.raw.pop("password")
        s.fail("mail.password: passwords are not kept in the config file; "
               "name an environment variable with mail.password_env")
    mail = Mail(
        transport=s.choice("transport", TRANSPORTS, d.transport),
        sender=s.address("from", d.sender),
        relay_host=s.take("relay_host", str, d.relay_host),
        relay_port=_positive(s, "relay_port", d.relay_port),
        starttls=s.take("starttls", bool, d.starttls),
        tls=s.take("tls", bool, d.tls),
        username=s.take("username", str, d.username),
        password_env=s.take("password_env", str, d.password_env),
        authserv_id=s.take("authserv_id", str, d.authserv_id).strip().lower(),
        verify_dkim=s.take("verify_dkim", bool, d.verify_dkim),
    )
    if mail.starttls and mail.tls:
        s.fail("mail.starttls: choose starttls or tls (implicit TLS), not both")
    if mail.username and not mail.password_env:
        s.fail("mail.password_env: required when mail.username is set")
    s.done()
    return mail


def _escalation(s: _Section) -> Escalation:
    d = Escalation()
    esc = Escalation(
        ack_within_minutes=_positive(s, "ack_within_minutes", d.ack_within_minutes),
        reply_window_minutes=_positive(s, "reply_window_minutes", d.reply_window_minutes),
        external_receipt=s.take("external_receipt", bool, d.external_receipt),
    )
    s.done()
    return esc


def _cli(s: _Section) -> Cli:
    cli = Cli(user=s.address("user", "").lower())
    s.done()
    return cli


def _store(s: _Section) -> StoreSettings:
    d = StoreSettings()
    settings = StoreSettings(backend=s.choice("backend", STORE_BACKENDS, d.backend),
                             url=s.take("url", str, d.url).strip(),
                             password_env=s.take("password_env", str, d.password_env))
    if "password" in s.raw:
        s.raw.pop("password")
        s.fail("store.password: passwords are not kept in the config file; "
               "name an environment variable with store.password_env")
    if settings.shared:
        if not re.match(r"^postgres(ql)?://", settings.url):
            s.fail("store.url: required with backend = \"postgresql\", as "
                   "postgresql://USER@HOST:PORT/DATABASE")
        elif re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", settings.url):
            s.fail("store.url: holds a password; keep it out of the file and name an "
                   "environment variable with store.password_env")
    s.done()
    return settings
