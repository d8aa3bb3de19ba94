"""The change feed (short or long poll) and health."""

from __future__ import annotations

import time
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query

from desktop_app import __version__
from desktop_app.core.records import Event
from desktop_app.server.deps import PrincipalDep, StoreDep
from desktop_app.server.keys import Principal
from desktop_app.server.routes.paging import check_limit
from desktop_app.server.schemas import EventOut, EventPage, Health
from desktop_app.store import Store

router = APIRouter(tags=["feed"])
POLL_INTERVAL_S = 0.2


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness; the only route that needs no key."""
    return Health(status="ok", version=__version__)


@router.get("/events", response_model=EventPage)
async def events(
    store: StoreDep,
    principal: PrincipalDep,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: int = 1000,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
) -> EventPage:
    """Events after ``since`` in projects this key can read; ``wait`` long-polls."""
    check_limit(limit)
    deadline = time.monotonic() + wait
    cursor = since
    while True:
        found = await anyio.to_thread.run_sync(_read_events, store, cursor, limit)
        visible = _visible(found, principal)
        if found:
            cursor = found[-1].seq
        if visible or time.monotonic() >= deadline or len(found) == limit:
            return EventPage(items=[EventOut.of(e) for e in visible], next_cursor=str(cursor))
        await anyio.sleep(POLL_INTERVAL_S)


def _read_events(store: Store, since: int, limit: int) -> list[Event]:
    return store.events(since, limit=limit)


def _visible(found: list[Event], principal: Principal) -> list[Event]:
    return [e for e in found if principal.role_in(e.project) is not None]
