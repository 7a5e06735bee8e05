"""`leakline deploy systemd-unit` (and `--backup-to`, `systemd-timer`): the systemd units of
`leakline serve` and of a scheduled `leakline backup`, from the configuration.

One place makes the unit, and it reads the paths from the config the unit will run with: the
ExecStart names that file, ReadWritePaths the data_dir it sets; a listener on a port below 1024
gets the one capability that binds it, and `[mail] password_env` an EnvironmentFile beside the
config. docs/deploy.md shows the unit this prints for its example (a test keeps them equal).
"""

from __future__ import annotations

import os
from pathlib import Path

from leakline.config import Config

UNIT_NAME = "leakline.service"
ENV_FILE = "leakline.env"

# What every unit of the service shares: it writes its data_dir (and a backup folder) and
# nothing else, and sees no other user's files.
HARDENING = """\
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
NoNewPrivileges=yes
CapabilityBoundingSet={capabilities}
{ambient}ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
"""

UNIT = """\
# /etc/systemd/system/{unit_name}: `leakline serve` (made by `leakline deploy systemd-unit`).
# Then: systemctl daemon-reload && systemctl enable --now leakline
[Unit]
Description=leakline: email intake for personal-data leak incidents
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={group}
ExecStart={executable} --config {config} serve
{environment}Restart=on-failure
RestartSec=5
# SIGTERM: the listener stops taking mail, the workers finish the batch they hold.
TimeoutStopSec=90
UMask=0077
# The service writes its data_dir and nothing else, and sees no other user's files.
ReadWritePaths={data_dir}
{hardening}
[Install]
WantedBy=multi-user.target
"""

BACKUP_UNIT = """\
# /etc/systemd/system/{backup_name}: `leakline backup` into a new folder of
# {target} named by the time (made by `leakline deploy systemd-unit --backup-to`), started by
# its timer (`leakline deploy systemd-timer`).
[Unit]
Description=leakline: a verified backup of the file store

[Service]
Type=oneshot
User={user}
Group={group}
# systemd reads $$ as $ and %% as % (systemd.service(5)); the shell gets the program, the config
# and the folder as $0, $1, $2.
ExecStart=/bin/sh -c 'exec "$$0" --config "$$1" backup "$$2/$$(date +%%Y-%%m-%%dT%%H%%M%%S)"' {executable} {config} {target}
UMask=0077
# Writes the backup folder; data_dir too (the backup applies the journals under the lock).
ReadWritePaths={data_dir} {target}
{hardening}"""

BACKUP_TIMER = """\
# /etc/systemd/system/{timer_name} (made by `leakline deploy systemd-timer`).
# Then: systemctl daemon-reload && systemctl enable --now {timer_name}
[Unit]
Description=leakline: the file store's backup, {calendar}

[Timer]
OnCalendar={calendar}
# A backup missed while the host was down is taken at the next boot.
Persistent=true
RandomizedDelaySec=10min

[Install]
WantedBy=timers.target
"""
BACKUP_NAME = "leakline-backup.service"
TIMER_NAME = "leakline-backup.timer"


class DeployError(Exception):
    """The unit cannot be made from this configuration (one line)."""


def systemd_unit(config: Config, *, executable: str, user: str = "leakline",
                 group: str | None = None) -> str:
    """The unit file's text for `config` (which must come from a file: the unit names it)."""
    _check(config, executable)
    low_port = config.service.port < 1024
    capability = "CAP_NET_BIND_SERVICE" if low_port else ""
    env_file = Path(config.source).resolve().parent / ENV_FILE
    environment = (f"# The relay password, ${config.mail.password_env}: a root-only file "
                   f"(0600) with {config.mail.password_env}=...\n"
                   f"EnvironmentFile={env_file}\n") if config.mail.password_env else ""
    hardening = HARDENING.format(capabilities=capability, ambient=f"AmbientCapabilities={capability}\n"
                                 if capability else "")
    return UNIT.format(
        unit_name=UNIT_NAME, user=user, group=group or user, executable=executable,
        config=Path(config.source).resolve(), environment=environment,
        data_dir=Path(os.path.abspath(config.service.data_dir)), hardening=hardening)


def backup_unit(config: Config, *, executable: str, target: str, user: str = "leakline",
                group: str | None = None) -> str:
    """The oneshot unit that backs the file store up into a new folder of `target`."""
    _check(config, executable)
    if not os.path.isabs(target):
        raise DeployError(f"the backup folder must be an absolute path, not {target!r}")
    data_dir = Path(os.path.abspath(config.service.data_dir))
    resolved = Path(os.path.abspath(target))
    if resolved == data_dir or data_dir in resolved.parents:
        raise DeployError(f"{target} is inside data_dir ({data_dir}); back up to another folder")
    for path in (executable, str(config.source), target):
        if any(c in str(path) for c in " '\"$%\\"):
            raise DeployError(f"{path}: a path in the backup unit may not hold spaces, quotes, $ or %")
    return BACKUP_UNIT.format(
        backup_name=BACKUP_NAME, target=resolved, user=user, group=group or user,
        executable=executable, config=Path(config.source).resolve(), data_dir=data_dir,
        hardening=HARDENING.format(capabilities="", ambient=""))


def backup_timer(calendar: str = "daily") -> str:
    """The timer of the backup unit (`OnCalendar=`: systemd.time(7), e.g. daily, *-*-* 03:00)."""
    if not calendar.strip() or "\n" in calendar:
        raise DeployError("--on-calendar takes one systemd calendar expression, e.g. daily")
    return BACKUP_TIMER.format(timer_name=TIMER_NAME, calendar=calendar.strip())


def _check(config: Config, executable: str) -> None:
    if config.source is None:
        raise DeployError("the unit runs leakline with a config file: give --config PATH "
                          "(leakline init PATH writes one)")
    if not os.path.isabs(executable):
        raise DeployError(f"the executable must be an absolute path, not {executable!r}")


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit (every section), each key's values in order: for checks."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings
