"""Mail texts from the jinja2 templates in templates/<lang>/: a subject, a plain-text and an HTML body.

Each mail is a pair `<name>.txt.j2` / `<name>.html.j2`. The text template sets `subject` at top
level, so one template holds what a translator edits together. HTML templates autoescape: subjects
and report excerpts come from outside and must not become markup.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from leakline.config import LANGUAGES
from leakline.delivery.compose import clean_header_value
from leakline.templates import TEMPLATE_DIR


class Rendered(NamedTuple):
    subject: str
    text: str
    html: str


def loader(templates: Path | None, base: Path = TEMPLATE_DIR):
    """The built-in templates under `base`, each overridden by a file of the same name under
    `templates` (an organisation's templates_dir), if given."""
    if templates is None:
        return FileSystemLoader(str(base))
    return ChoiceLoader([FileSystemLoader(str(templates)), FileSystemLoader(str(base))])


@lru_cache(maxsize=64)
def environment(templates: Path | None = None) -> Environment:
    """One jinja2 environment per templates_dir (None: the built-ins), compiled once."""
    return Environment(
        loader=loader(templates),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        undefined=StrictUndefined,  # a missing value is a bug to see in tests, not a blank in a mail
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_mail(name: str, language: str, context: dict, *, env: Environment | None = None,
                templates: Path | None = None) -> Rendered:
    """Render `<language>/<name>.{txt,html}.j2` with `context`; the subject comes from the text one.

    `templates` is the organisation's templates_dir: its files override the built-ins by name.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    env = env or environment(templates)
    module = env.get_template(f"{language}/{name}.txt.j2").make_module(context)
    subject = clean_header_value(getattr(module, "subject"))
    html = env.get_template(f"{language}/{name}.html.j2").render(context, subject=subject)
    return Rendered(subject, str(module).lstrip("\n"), html)


def local_time(value: datetime | str | None, tz: ZoneInfo, language: str = "en") -> str:
    """A time as the organisation reads it: '2026-11-26 18:03 JST', in Japanese mail
    '2026年11月26日 18:03' (no leading zeros in the date); '' when unknown."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    local = moment.astimezone(tz)
    if language == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def excerpt(text: str | None, max_lines: int = 15, max_chars: int = 1200) -> str:
    """The first lines of a report, for a manager to judge it without opening anything."""
    lines = [line.rstrip() for line in (text or "").strip().splitlines()]
    cut = "\n".join(lines[:max_lines])
    if len(cut) > max_chars:
        cut = cut[:max_chars].rstrip()
    return cut + ("\n…" if cut != "\n".join(lines) else "")
