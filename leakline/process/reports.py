"""Drafts of the reports and notices a privacy officer files, from a case.

Kinds are the ids of the steps they serve (hyphens or underscores, old step ids too). A kind whose
step does not apply to the case is refused with the reason, unless forced (then a warning heads
the draft). Items are numbered `1.` to `n.`; no other line starts with a number and a point.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

import jinja2

from leakline import templates
from . import report_context
from .facts import AUDIENCES

# Each kind: the step it serves, its template, the stage it is when not told, and whether it
# is a public text (nobody named, no free text).
KIND_SPECS = {
    "ppc-preliminary": ("authorities", "ppc_preliminary", "report.txt.j2", "preliminary", False),
    "ppc-final": ("authorities", "ppc_final", "report.txt.j2", "final", False),
    "review-body": ("authorities", None, "report_review_body.txt.j2", None, False),
    "client-notice": ("publication", "client_notice", "report.txt.j2", "preliminary", False),
    "persons-notice": ("publication", "persons_notice", "report_persons.txt.j2", "preliminary", True),
    "public-notice": ("publication", "public_notice", "report_public.txt.j2", "preliminary", True),
    "gdpr-72h": ("authorities", "gdpr_72h", "report_gdpr.txt.j2", "preliminary", False),
    "gdpr-controller-notice": ("authorities", "gdpr_controller_notice", "report_gdpr.txt.j2",
                               "preliminary", False),
    "sector-report": ("authorities", "sector_report", "report.txt.j2", "preliminary", False),
}
KINDS = tuple(KIND_SPECS)
# Other names of a kind, and the stage they fix (None: the kind's own rule decides).
ALIASES = {"review-body-preliminary": ("review-body", "preliminary"),
           "review-body-final": ("review-body", "final"),
           "persons": ("persons-notice", None), "client": ("client-notice", None),
           "notice": ("public-notice", None), "gdpr": ("gdpr-72h", None)}
STAGES = ("preliminary", "final")
LANGS = ("ja", "en")
NUMBERED = re.compile(r"^\d+\.")


class ReportError(ValueError):
    """An unknown or inapplicable report kind, language or stage; the message is one line."""


@dataclass(frozen=True)
class Draft:
    """A rendered draft: its canonical kind and stage, and the text without a final newline."""

    kind: str
    stage: str
    lang: str
    text: str
    forced: bool = False

    @property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the UTF-8 text exactly as printed, without the final newline."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def resolve(kind: str, stage: str | None) -> tuple[str, str | None]:
    """The canonical kind and the stage a name fixes: `review_body_final` is review-body, final."""
    name = kind.strip().lower().replace("_", "-")
    fixed = None
    if name in ALIASES:
        name, fixed = ALIASES[name]
    if name not in KIND_SPECS:
        raise ReportError(f"unknown report kind {kind!r} (one of {', '.join(KINDS)}, or a step id)")
    if stage is not None and stage not in STAGES:
        raise ReportError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")
    own = KIND_SPECS[name][3] if name.startswith("ppc-") else fixed
    if stage and own and stage != own:
        raise ReportError(f"{kind} is the {own} report; it cannot be drafted as the {stage} one")
    return name, stage or own


def _stage(case: dict, kind: str, stage: str | None) -> str:
    if stage:
        return stage
    if kind == "review-body":
        # The preliminary while it is still owed, the final once it was filed or is not needed.
        owed = report_context.step(case, "authorities", "review_body_preliminary")["status"]
        return "preliminary" if owed in ("open", "pending") else "final"
    return KIND_SPECS[kind][3]


def _step_of(kind: str, stage: str) -> tuple[str, str]:
    phase, step, *_ = KIND_SPECS[kind]
    return phase, step or f"review_body_{stage}"


def inapplicable(case: dict, kind: str, stage: str) -> str | None:
    """Why the kind does not apply to the case (its step is not applicable), or None."""
    phase, step = _step_of(kind, stage)
    found = report_context.step(case, phase, step)
    if found["status"] == "not_applicable":
        return found.get("reason") or "its step does not apply"
    return None


def environment(lang: str, override=None) -> jinja2.Environment:
    """The jinja2 environment for one language's templates (plain text: no autoescape);
    `override` is an organisation's templates_dir, whose <lang>/ files replace ours by name."""
    base = jinja2.FileSystemLoader(templates.TEMPLATE_DIR / lang)
    loader = base if override is None else \
        jinja2.ChoiceLoader([jinja2.FileSystemLoader(override / lang), base])
    env = jinja2.Environment(loader=loader,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["count"] = lambda n: f"{n:,}"
    return env


def _check_numbering(text: str) -> str:
    """Items run 1. to n.; a line of free text that would look like one is indented."""
    lines, expected = [], 1
    for line in text.splitlines():
        if NUMBERED.match(line):
            if line.startswith(f"{expected}. "):
                expected += 1
            else:
                line = "  " + line
        lines.append(line)
    return "\n".join(lines).rstrip("\n")


def draft(case: dict, kind: str, lang: str, *, org, stage: str | None = None,
          audience: str | None = None, force: bool = False, today: date | None = None) -> Draft:
    """The draft of one report or notice, for a person to check and file."""
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
    if audience is not None and audience not in AUDIENCES:
        raise ReportError(f"unknown audience {audience!r} (one of {', '.join(AUDIENCES)})")
    kind, fixed = resolve(kind, stage)
    stage = _stage(case, kind, fixed)
    why_not = inapplicable(case, kind, stage)
    if why_not and not force:
        raise ReportError(f"{kind} ({stage}) does not apply to {case.get('id')}: {why_not} "
                          "(--force to draft it anyway)")
    public = KIND_SPECS[kind][4]
    build = report_context.public if public else report_context.full
    context = build(case, kind, lang, org=org, preliminary=stage == "preliminary", audience=audience,
                    today=today)
    env = environment(lang, getattr(org, "templates_dir", None))
    text = env.get_template(KIND_SPECS[kind][2]).render(**context, stage=stage, warning=why_not)
    return Draft(kind, stage, lang, _check_numbering(text), forced=bool(why_not))
