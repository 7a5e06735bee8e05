"""Drafts of the reports and notices (Enforcement Rules Art. 8(1), nine items) from a case."""

from __future__ import annotations

from datetime import datetime

import jinja2

import templates

from .facts import CATEGORY_LABELS, DATA_ITEM_LABELS, current, learned_at


class ReportError(ValueError):
    """An unknown report kind or language; the message is one line."""


KINDS = ("ppc-preliminary", "ppc-final", "review-body", "persons-notice", "client-notice")
LANGS = ("ja", "en")
LANG_INDEX = {"ja": 0, "en": 1}
PREVENTION_STEPS = ("measures", "implementation", "verification")


def _phase(case: dict, phase_id: str) -> dict:
    return next((p for p in case.get("phases") or [] if p["id"] == phase_id), {"steps": []})


def _step(case: dict, phase_id: str, step_id: str) -> dict:
    steps = _phase(case, phase_id)["steps"]
    return next((s for s in steps if s["id"] == step_id), {"status": "open", "note": None})


def _discovered(case: dict, lang: str) -> str | None:
    start = learned_at(case)
    if not start:
        return None
    day = datetime.fromisoformat(start).date()
    return f"{day.year}年{day.month}月{day.day}日" if lang == "ja" else day.isoformat()


def _risks(values: dict) -> list[str]:
    """Kinds of secondary harm the facts make possible; the template words them."""
    return [flag for flag in ("sensitive", "financial", "wrongful") if values[flag]]


def _preliminary(kind: str, case: dict) -> bool:
    # The review body's draft is its preliminary report while that one is still owed.
    if kind == "review-body":
        return _step(case, "authorities", "review_body_preliminary")["status"] == "open"
    return kind in ("ppc-preliminary", "client-notice")


def _public_context(case: dict, kind: str, lang: str, org_name: str) -> dict:
    """What a notice to the persons may say: facts and labels only, no free text, nobody named."""
    values = current(case.get("facts") or {})
    i = LANG_INDEX[lang]
    category = CATEGORY_LABELS[values["category"]][i] if values["category"] else None
    return {
        "kind": kind, "org_name": org_name, "preliminary": _preliminary(kind, case),
        "discovered": _discovered(case, lang), "category": category,
        "data_items": [DATA_ITEM_LABELS[item][i] for item in values["data_items"]],
        "risks": _risks(values), "encrypted": values["encrypted"],
    }


def _context(case: dict, kind: str, lang: str, org_name: str, report_to: str) -> dict:
    values = current(case.get("facts") or {})
    prevention = [(s, _step(case, "prevention", s)["note"]) for s in PREVENTION_STEPS
                  if _step(case, "prevention", s)["status"] == "closed"]
    return {
        **_public_context(case, kind, lang, org_name),
        "report_to": report_to, "case_id": case.get("id"),
        "persons": values["persons"], "persons_estimated": values["persons_estimated"],
        "cause": _step(case, "prevention", "cause").get("note"),
        "persons_step": _step(case, "publication", "persons"),
        "notice_step": _step(case, "publication", "notice"),
        "prevention": prevention,
        "containment": _phase(case, "containment").get("note"),
        "entrusted": values["entrusted"], "client": values["client"],
        "triggers": (case.get("assessment") or {}).get("triggers", []),
    }


def environment(lang: str) -> jinja2.Environment:
    """The jinja2 environment for one language's templates (plain text: no autoescape)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates.TEMPLATE_DIR / lang),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, autoescape=False)


def draft(case: dict, kind: str, lang: str, *, org_name: str, report_to: str) -> str:
    """The draft text of one report or notice, for a person to check and send."""
    if kind not in KINDS:
        raise ReportError(f"unknown report kind {kind!r} (one of {', '.join(KINDS)})")
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
    if kind == "persons-notice":
        context, name = _public_context(case, kind, lang, org_name), "report_persons.txt.j2"
    else:
        context, name = _context(case, kind, lang, org_name, report_to), "report.txt.j2"
    return environment(lang).get_template(name).render(**context)
