"""Read a corpus file (see SPEC.md), check every record, print a summary. Usage: python check.py FILE..."""

import collections
import json
import re
import sys
from datetime import date, datetime

CATEGORIES = ("misdirected_email", "misdirected_fax", "misdelivery", "wrong_display", "wrong_entry",
              "loss", "theft", "wrong_disposal", "unauthorized_access", "malware", "insider", "verbal",
              "misuse", "other")
ITEMS = ("name", "address", "phone", "email", "birthdate", "gender", "employee_id", "customer_id",
         "photo", "salary", "medical", "disability", "criminal_record", "creed", "race",
         "social_status", "crime_victim", "card_number", "account", "pin", "id_password", "login",
         "my_number", "other")
KEYS = {"lang", "category", "sensitive", "financial", "wrongful", "persons", "persons_over",
        "persons_max", "data_items", "encrypted_claim", "received_at", "discovered_at"}


def read(path):
    text = open(path, encoding="utf-8").read()
    records = []
    for chunk in re.split(r"(?m)^#### ", text)[1:]:
        head, _, rest = chunk.partition("\n")
        labels_line, _, rest = rest.partition("\n")
        subject_line, _, rest = rest.partition("\n")
        blank, _, body = rest.partition("\n")
        if not labels_line.startswith("labels: ") or not subject_line.startswith("subject:") or blank.strip():
            raise SystemExit(f"{path}: record {head.strip()!r}: bad layout")
        records.append({"id": head.strip(), "labels": json.loads(labels_line[8:]),
                        "subject": subject_line[8:].strip(), "body": body.rstrip("\n")})
    return records


def check(record):
    rid, lab = record["id"], record["labels"]
    problems = []
    if set(lab) != KEYS:
        problems.append(f"keys differ: missing {KEYS - set(lab)}, extra {set(lab) - KEYS}")
    if lab.get("lang") not in ("ja", "en"):
        problems.append("lang")
    if lab.get("category") not in CATEGORIES:
        problems.append(f"category {lab.get('category')!r}")
    for flag in ("sensitive", "financial", "wrongful", "persons_over", "encrypted_claim"):
        if not isinstance(lab.get(flag), bool):
            problems.append(f"{flag} not bool")
    for num in ("persons", "persons_max"):
        value = lab.get(num)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{num} {value!r}")
    items = lab.get("data_items")
    if not isinstance(items, list) or any(i not in ITEMS for i in items):
        problems.append(f"data_items {items!r}")
    elif items != [i for i in ITEMS if i in items]:
        problems.append("data_items not in canonical order")
    try:
        datetime.fromisoformat(lab.get("received_at"))
    except Exception:
        problems.append("received_at")
    if lab.get("discovered_at") is not None:
        try:
            date.fromisoformat(lab["discovered_at"])
        except Exception:
            problems.append("discovered_at")
    if not record["body"].strip():
        problems.append("empty body")
    return [f"{rid}: {p}" for p in problems]


if __name__ == "__main__":
    all_records = []
    for path in sys.argv[1:]:
        all_records += read(path)
    problems = [p for r in all_records for p in check(r)]
    ids = collections.Counter(r["id"] for r in all_records)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    print("\n".join(problems) or "all records well-formed")
    print(len(all_records), "records;", dict(collections.Counter(r["labels"].get("lang") for r in all_records)))
    print(dict(collections.Counter(r["labels"].get("category") for r in all_records).most_common()))
    sys.exit(1 if problems else 0)
