"""A store that heals: one damaged file affects only its own case.

Index shards and sequence files are derived from the case files, so they are rebuilt from
them; a case file or the key index that cannot be read back is moved aside to `quarantine/`
with a note (never deleted), and the keys the cases name are derived again. `quick_check`
(at `leakline serve` start) looks only at sequences and shards; `check` (`leakline store
check`) reads every file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from leakline.store.cases import (BUCKET, CaseDamaged, CaseNotFound, Store, StoreDamaged, read_case,
                         read_shard, split_case_id, summary)
from leakline.store.files import atomic_write, ensure_dir, fsync_dir
from leakline.store.tinystore import write_tables

_SEQ_NAME = re.compile(r"^([A-Za-z0-9]+)-(\d{4})$")


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    files: int = 0


# -- sequences ------------------------------------------------------------------------------
def highest_case_number(store: Store, prefix: str, year: int) -> int:
    """The highest sequence number of a case id on disk for prefix and year, quarantined too."""
    pattern = re.compile(rf"^{re.escape(prefix)}-{year:04d}-(\d{{4,}})\.json$")
    roots = [store.data_dir / "cases" / str(year)]
    roots += sorted((store.data_dir / "quarantine").glob(f"*/cases/{year}"))
    best = 0
    for root in roots:
        for bucket in sorted(_listdir(root), reverse=True):
            numbers = [int(m.group(1)) for m in map(pattern.match, _listdir(root / bucket)) if m]
            if numbers:
                best = max(best, max(numbers))
                break  # buckets are in id order: the highest non-empty one holds the highest id
    return best


def read_sequence(path: Path) -> int:
    """The last number handed out; StoreDamaged when the file is there but unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return parse_sequence(path, data)


def parse_sequence(path: Path, data: bytes) -> int:
    try:
        value = json.loads(data.decode("utf-8"))
    except ValueError:
        raise StoreDamaged(path, "sequence file is not valid JSON") from None
    last = value.get("last") if isinstance(value, dict) else None
    if not isinstance(last, int) or isinstance(last, bool) or last < 0:
        raise StoreDamaged(path, "sequence file has no number in it")
    return last


def _check_sequence(store: Store, path: Path, repair: bool, report: CheckReport) -> None:
    match = _SEQ_NAME.match(path.name)
    if not match:
        return
    prefix, year = match.group(1), int(match.group(2))
    problem = _sequence_problem(store, path, prefix, year)
    if problem is None:
        return
    report.problems.append(problem)
    if repair:
        with store.lock.hold():  # read again: the service may have handed out an id meanwhile
            if _sequence_problem(store, path, prefix, year) is None:
                return
            last = max(highest_case_number(store, prefix, year), _readable_sequence(path))
            atomic_write(path, b'{"last": %d}' % last)
        report.repairs.append(f"{path}: set to {last} from the case files")


def _sequence_problem(store: Store, path: Path, prefix: str, year: int) -> str | None:
    highest = highest_case_number(store, prefix, year)
    try:
        last = read_sequence(path)
    except StoreDamaged as exc:
        return f"{path}: {exc.reason}"
    if last < highest:
        return f"{path}: says {last}, but case {prefix}-{year}-{highest:04d} exists"
    return None


def _readable_sequence(path: Path) -> int:
    try:
        return read_sequence(path)
    except StoreDamaged:
        return 0


# -- index shards ---------------------------------------------------------------------------
def shard_cases(store: Store, shard: Path, report: CheckReport | None = None) -> list[dict]:
    """The summaries of the case files of one shard's bucket; damaged cases are left out."""
    folder = store.data_dir / "cases" / shard.parent.name / shard.stem
    rows = []
    for name in sorted(_listdir(folder)):
        if not name.endswith(".json") or name.startswith("."):
            continue
        case_id = name[:-5]
        try:
            split_case_id(case_id)
            case = read_case(folder / name, case_id)
            row = summary(case)
            if store.summarize is not None:  # the row as Store writes it, listing fields and all
                row.update(store.summarize(case))
            rows.append(row)
        except (CaseNotFound, StoreDamaged, OSError) as exc:
            if report is not None:
                report.problems.append(f"{folder / name}: {getattr(exc, 'reason', exc)}")
    return sorted(rows, key=lambda r: split_case_id(r["id"]))


def rebuild_shard(store: Store, shard: Path, rows: list[dict] | None = None) -> list[dict]:
    """Write the shard anew from its case files (the damaged one is kept in quarantine)."""
    with store.lock.hold():
        rows = shard_cases(store, shard) if rows is None else rows
        if shard.exists():
            try:
                read_shard(shard)
            except (StoreDamaged, OSError):
                quarantine(store, shard, "index shard that could not be read; rebuilt from the "
                                         "case files", copy=True)
        write_tables(shard, {"cases": rows})
    return rows


def _check_shard(store: Store, shard: Path, repair: bool, report: CheckReport,
                 deep: bool) -> None:
    indexed = None
    if not shard.exists():
        report.problems.append(f"{shard}: missing")
    else:
        try:
            indexed = read_shard(shard)
        except (StoreDamaged, OSError) as exc:
            report.problems.append(f"{shard}: {getattr(exc, 'reason', None) or exc}")
    if indexed is not None and not deep:
        return
    rows = shard_cases(store, shard)  # damaged case files are reported by _check_cases
    if indexed is not None:
        if indexed == rows:
            return
        report.problems.append(f"{shard}: does not match its {len(rows)} case files")
    if repair:
        rows = rebuild_shard(store, shard)  # read again under the lock: the service may write
        report.repairs.append(f"{shard}: rebuilt from {len(rows)} case files")


def _shards(store: Store) -> list[Path]:
    root = store.data_dir / "index"
    shards = [root / y / n for y in sorted(_listdir(root)) for n in sorted(_listdir(root / y))
              if n.endswith(".json") and not n.startswith(".")]
    # A bucket with case files but no shard at all is a shard to rebuild too.
    cases = store.data_dir / "cases"
    for year in sorted(_listdir(cases)):
        for bucket in sorted(_listdir(cases / year)):
            shard = root / year / f"{bucket}.json"
            if shard not in shards and any(n.endswith(".json") for n in _listdir(cases / year / bucket)):
                shards.append(shard)
    return shards


# -- case and key files ---------------------------------------------------------------------
def _check_cases(store: Store, repair: bool, report: CheckReport) -> None:
    for path in sorted((store.data_dir / "cases").glob("*/*/*.json")):
        report.files += 1
        case_id = path.stem
        try:
            case = read_case(path, case_id)
        except CaseDamaged as exc:
            report.problems.append(f"{path}: {exc.reason}")
            if repair:
                _quarantine_case(store, path, case_id, exc.reason, report)
            continue
        except OSError as exc:
            report.problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        if repair:
            _claim_keys(store, case)


def _quarantine_case(store: Store, path: Path, case_id: str, reason: str,
                     report: CheckReport) -> None:
    with store.lock.hold():
        try:
            read_case(path, case_id)
            return  # rewritten whole meanwhile
        except CaseDamaged:
            target = quarantine(store, path, f"case file that cannot be read: {reason}")
    report.repairs.append(f"{path}: moved to {target}")


def _claim_keys(store: Store, case: dict) -> None:
    """Re-derive the message keys a case names (after the key index was quarantined)."""
    with store.unit_of_work():
        for message in case.get("messages", []):
            for key in (message.get("key"), message.get("message_id"),
                        f"raw:{message['sha256']}" if message.get("sha256") else None):
                if key:
                    store.claim_key(key, case["id"])


def _check_keys(store: Store, repair: bool, report: CheckReport) -> bool:
    """The key index (keys.sqlite); with `repair`, a damaged one is moved aside and the keys
    the cases name are derived again (by _check_cases). True when it was damaged."""
    keys = store.units.keys
    if not keys.path.exists():
        return False
    report.files += 1
    problem = keys.check()
    if problem is None:
        return False
    report.problems.append(f"{keys.path}: key index cannot be read ({problem})")
    if repair:
        with store.lock.hold():
            keys.close()
            target = quarantine(store, keys.path, "key index that cannot be read; the keys the "
                                                  "case files name were derived again")
            for suffix in ("-wal", "-shm"):
                side = keys.path.with_name(keys.path.name + suffix)
                if side.exists():
                    os.replace(side, target.with_name(target.name + suffix))
        report.repairs.append(f"{keys.path}: moved to {target}")
    return True


# -- the redo journal ----------------------------------------------------------------------
def _check_journal(store: Store, repair: bool, report: CheckReport) -> None:
    """A unit a crash left half applied is finished; a journal damaged inside (not a torn end)
    stops every unit, so with `repair` it is moved aside (what it held past the damage was
    committed but is not applied: its messages are reprocessed from the spool if still there)."""
    from leakline.store.journal import JournalError

    journal = store.units.journal
    if journal.clean():
        return
    report.files += 1
    try:
        with store.lock.hold():
            store.units.recover()
        return
    except JournalError as exc:
        report.problems.append(str(exc))
    if repair:
        with store.lock.hold():
            target = quarantine(store, journal.path, "redo journal damaged inside; the units "
                                "after the damage were not applied (run `leakline audit verify`)")
        report.repairs.append(f"{journal.path}: moved to {target}")


# -- the two checks -------------------------------------------------------------------------
def quick_check(store: Store) -> CheckReport:
    """At start: sequences and shards only, repaired where damaged; never a walk of every case."""
    report = CheckReport()
    for path in sorted(_listdir(store.data_dir / "seq")):
        _check_sequence(store, store.data_dir / "seq" / path, True, report)
    for shard in _shards(store):
        _check_shard(store, shard, True, report, deep=False)
    return report


def check(store: Store, repair: bool = False) -> CheckReport:
    """Every sequence, shard and case file and the key index; with `repair`, mend what can be.

    Reads without the data lock (files are replaced whole, so a read sees a whole file) and
    takes it for each repair, so a running service is held up only while a file is mended.
    """
    report = CheckReport()
    _check_journal(store, repair, report)
    _check_keys(store, repair, report)
    _check_cases(store, repair, report)
    for shard in _shards(store):
        report.files += 1
        _check_shard(store, shard, repair, report, deep=True)
    for name in sorted(_listdir(store.data_dir / "seq")):
        report.files += 1
        _check_sequence(store, store.data_dir / "seq" / name, repair, report)
    return report


def quarantine(store: Store, path: Path, reason: str, copy: bool = False) -> Path:
    """Move (or copy) a damaged file under quarantine/<time>/<its path>, with a note beside it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    rel = path.relative_to(store.data_dir)
    target = store.data_dir / "quarantine" / stamp / rel
    ensure_dir(target.parent)
    if copy:
        shutil.copyfile(path, target)
        os.chmod(target, 0o600)
    else:
        os.replace(path, target)
        fsync_dir(path.parent)
    note = (f"what: {rel}\nwhy: {reason}\nwhen: {stamp} UTC\n"
            f"to restore a mended copy: put it back at {rel} and run "
            f"`leakline store check --repair`\n")
    atomic_write(target.with_name(target.name + ".note"), note.encode())
    return target


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


__all__ = ["CheckReport", "BUCKET", "check", "highest_case_number", "quarantine", "quick_check",
           "read_sequence", "rebuild_shard", "shard_cases"]
