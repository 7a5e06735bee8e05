"""The asyncio event loop the listener and the delivery worker run on (no CLI in here: the worker
process imports it)."""

from __future__ import annotations


def run_event_loop(coro):
    """uvloop where it is installed (it roughly halves the listener's per-message overhead)."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        return asyncio.run(coro)
    return uvloop.run(coro)
