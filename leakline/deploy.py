"""`leakline deploy systemd-unit`: the systemd unit of `leakline serve`, from the configuration.

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

[Install]
WantedBy=multi-user.target
"""


class DeployError(Exception):
    """The unit cannot be made from this configuration (one line)."""


def systemd_unit(config: Config, *, executable: str, user: str = "leakline",
                 group: str | None = None) -> str:
    """The unit file's text for `config` (which must come from a file: the unit names it)."""
    if config.source is None:
        raise DeployError("the unit runs serve with a config file: give --config PATH "
                          "(leakline init PATH writes one)")
    if not os.path.isabs(executable):
        raise DeployError(f"the executable must be an absolute path, not {executable!r}")
    low_port = config.service.port < 1024
    capability = "CAP_NET_BIND_SERVICE" if low_port else ""
    env_file = Path(config.source).resolve().parent / ENV_FILE
    environment = (f"# The relay password, ${config.mail.password_env}: a root-only file "
                   f"(0600) with {config.mail.password_env}=...\n"
                   f"EnvironmentFile={env_file}\n") if config.mail.password_env else ""
    return UNIT.format(
        unit_name=UNIT_NAME, user=user, group=group or user, executable=executable,
        config=Path(config.source).resolve(), environment=environment,
        data_dir=Path(os.path.abspath(config.service.data_dir)), capabilities=capability,
        ambient=f"AmbientCapabilities={capability}\n" if capability else "")


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit (every section), each key's values in order: for checks."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings
