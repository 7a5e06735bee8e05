"""Storage: the case store (TinyDB behind one interface), the spool and the outbox."""

from leakline.store.cases import CaseDamaged, CaseNotFound, Store, StoreDamaged
from leakline.store.spool import Spool, SpoolEntry

__all__ = ["CaseDamaged", "CaseNotFound", "Store", "StoreDamaged", "Spool", "SpoolEntry"]
