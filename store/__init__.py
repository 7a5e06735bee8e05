"""Storage: the case store (TinyDB behind one interface), the spool and the outbox."""

from store.cases import CaseDamaged, CaseNotFound, Store, StoreDamaged
from store.spool import Spool, SpoolEntry

__all__ = ["CaseDamaged", "CaseNotFound", "Store", "StoreDamaged", "Spool", "SpoolEntry"]
