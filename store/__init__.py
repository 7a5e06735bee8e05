"""Storage: the case store (TinyDB behind one interface), the spool and the outbox."""

from store.cases import CaseNotFound, Store
from store.spool import Spool, SpoolEntry

__all__ = ["CaseNotFound", "Store", "Spool", "SpoolEntry"]
