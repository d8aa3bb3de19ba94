"""Keeps the offline mirror current: the change feed in, offline edits out.

Plain functions and one small class, all blocking; the GUI's worker thread calls them. A
backend that cannot be reached raises :class:`BackendUnavailableError`, which the caller
turns into "Offline" and a later retry; nothing here sleeps or loops forever.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from desktop_app.backends.protocol import Backend
from desktop_app.client.content_cache import ContentCache
from desktop_app.client.mirror import Mirror, PendingEdit
from desktop_app.core.errors import ArtifactDeskError, BackendUnavailableError, NotFoundError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import CollectionInfo, Event, VersionInfo

EVENTS_PER_STEP = 5000
ENTRIES_PER_PAGE = 1000

_COLLECTION_EVENTS = ("version.", "alias.")


@dataclass
class SyncStep:
    """What one step of syncing changed; ``caught_up`` once the feed has no more events."""

    events: int = 0
    collections: set[tuple[str, str]] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)  # runs that used a version or finished
    caught_up: bool = False


@dataclass(frozen=True)
class EditOutcome:
    """What became of one offline edit: applied, or refused with a message for the user."""

    edit: PendingEdit
    version: VersionInfo | None
    problem: str | None = None


class FeedSync:
    """Applies the change feed to the mirror a slice at a time.

    Each :meth:`step` reads a page of events when the last one is done, then fetches the
    artifacts the page touched (each once, however many events name it) until ``budget_s``
    is spent, and writes what it fetched in one transaction; the cursor moves only when
    the whole page is in. A caller on a thread beside a GUI keeps each step short, so the
    interpreter lock is free between steps.
    """

    def __init__(self, backend: Backend, mirror: Mirror, *, max_events: int = EVENTS_PER_STEP):
        self.backend = backend
        self.mirror = mirror
        self.max_events = max_events
        self._page: SyncStep | None = None  # the page being applied
        self._todo: list[tuple[str, str]] = []
        self._usages: list[tuple[str, str]] = []
        self._finished: dict[str, str] = {}
        self._cursor = 0

    def step(self, budget_s: float | None = None) -> SyncStep:
        """Apply the next slice; ``caught_up`` when the feed had nothing more to give."""
        if self._page is None:
            since = self.mirror.cursor
            feed = self.backend.feed(since, limit=self.max_events)
            # A short page is the end of the feed, unless the cursor moved past the events
            # given: a server skips events of projects this key may not read, so their
            # page may come back short, or empty, with more behind it.
            last_given = feed.events[-1].seq if feed.events else since
            page = SyncStep(
                events=len(feed.events),
                caught_up=len(feed.events) < self.max_events and feed.next_cursor <= last_given,
            )
            if not feed.events:
                if feed.next_cursor > since:
                    self.mirror.replace_collections([], cursor=feed.next_cursor)
                return page
            self._usages, self._finished = [], {}
            for event in feed.events:
                _note_event(event, page, self._usages, self._finished)
            self._page, self._todo = page, sorted(page.collections)
            self._cursor = feed.next_cursor
        page = self._page
        deadline = None if budget_s is None else time.monotonic() + budget_s
        items: list[tuple[CollectionInfo | None, str, str, list[VersionInfo]]] = []
        while self._todo and (deadline is None or not items or time.monotonic() < deadline):
            project, name = self._todo.pop()
            items.append(_fetch_collection(self.backend, project, name))
        done = not self._todo
        slice_ = SyncStep(
            events=page.events if done else 0,
            collections={(project, name) for _, project, name, _ in items},
            versions=page.versions if done else set(),
            runs=page.runs if done else set(),
            caught_up=done and page.caught_up,
        )
        if done:
            self.mirror.replace_collections(
                items, usages=self._usages, finished_runs=self._finished, cursor=self._cursor
            )
            self._page = None
        else:
            self.mirror.replace_collections(items)
        return slice_


def sync_step(backend: Backend, mirror: Mirror, *, max_events: int = EVENTS_PER_STEP) -> SyncStep:
    """Apply the next page of the change feed to the mirror, in one transaction."""
    return FeedSync(backend, mirror, max_events=max_events).step()


def _note_event(
    event: Event,
    step: SyncStep,
    usages: list[tuple[str, str]],
    finished: dict[str, str],
) -> None:
    payload = event.payload
    if event.kind.startswith(_COLLECTION_EVENTS) and isinstance(payload.get("name"), str):
        step.collections.add((event.project, payload["name"]))
        if isinstance(payload.get("version_id"), str):
            step.versions.add(payload["version_id"])
    elif event.kind == "run.used_version":
        usages.append((str(payload["run_id"]), str(payload["version_id"])))
        step.versions.add(str(payload["version_id"]))
        step.runs.add(str(payload["run_id"]))
    elif event.kind == "run.finished":
        finished[str(payload["run_id"])] = str(payload.get("state", "finished"))
        step.runs.add(str(payload["run_id"]))


def _fetch_collection(
    backend: Backend, project: str, name: str
) -> tuple[CollectionInfo | None, str, str, list[VersionInfo]]:
    try:
        collection = backend.get_collection(project, name)
        versions = backend.list_versions(project, name, include_deleted=True)
    except NotFoundError:
        return None, project, name, []  # gone since the event: drop it from the mirror
    return collection, project, name, versions


def sync_until_caught_up(
    backend: Backend,
    mirror: Mirror,
    *,
    on_step: Callable[[SyncStep], None] | None = None,
    max_events: int = EVENTS_PER_STEP,
) -> int:
    """Sync step by step until the feed is drained; returns the number of events applied."""
    total = 0
    while True:
        step = sync_step(backend, mirror, max_events=max_events)
        total += step.events
        if on_step is not None:
            on_step(step)
        if step.caught_up:
            mirror.mark_synced()
            return total


def load_version_details(
    backend: Backend, mirror: Mirror, cache: ContentCache | None, version_id: str
) -> set[str]:
    """Fetch what the detail pane needs that the feed does not carry: files and runs.

    Returns the digests of the version's files that are on this machine.
    """
    info = mirror.version(version_id)
    if info is None:
        info = backend.get_version(version_id)
        mirror.put_version(info)
    if mirror.manifest_loaded(version_id):
        entries = mirror.entries(version_id)
        local = local_digests(backend, cache, info.project, entries)
        mirror.set_cached_files(version_id, count_in(entries, local))
    else:
        entries = _all_entries(backend, version_id)
        local = local_digests(backend, cache, info.project, entries)
        mirror.put_manifest(version_id, entries, count_in(entries, local))
    mirror.put_usages(version_id, (run.id for run in backend.used_by(version_id)))
    load_runs(backend, mirror, [r for r in [info.logged_by, *mirror.used_by(version_id)] if r])
    return local


def load_runs(backend: Backend, mirror: Mirror, run_ids: Iterable[str]) -> None:
    """Fetch the runs the mirror does not know yet (names and job types for lineage)."""
    for run_id in run_ids:
        if mirror.run(run_id) is None:
            try:
                mirror.put_run(backend.get_run(run_id))
            except NotFoundError:
                continue


def _all_entries(backend: Backend, version_id: str) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    cursor: str | None = None
    while True:
        page = backend.list_entries(version_id, cursor=cursor, limit=ENTRIES_PER_PAGE)
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor


def count_in(entries: Iterable[ManifestEntry], digests: Collection[str]) -> int:
    """How many entries have their contents in ``digests``; copies of one content count each,
    as ``file_count`` does."""
    return sum(1 for e in entries if e.ref is None and e.digest in digests)


def local_digests(
    backend: Backend, cache: ContentCache | None, project: str, entries: Iterable[ManifestEntry]
) -> set[str]:
    """Digests of the entries whose contents are on this machine: in the content cache, or
    in the embedded store itself (which keeps every blob locally)."""
    digests = {e.digest for e in entries if e.ref is None}
    found = {d for d in digests if cache is not None and cache.contains(d)}
    rest = sorted(digests - found)
    if rest:
        with contextlib.suppress(NotFoundError):  # a project the store does not (yet) hold
            found.update(backend.local_blob_paths(project, rest))
    return found


def drain_outbox(backend: Backend, mirror: Mirror) -> list[EditOutcome]:
    """Apply the queued offline edits in order; stops at the first unreachable backend.

    An edit the backend refuses, or one that would overwrite a change made elsewhere while
    we were offline, is dropped with a message, and the mirror shows the backend's state.
    """
    outcomes: list[EditOutcome] = []
    for edit in mirror.pending_edits():
        try:
            outcome = _apply_edit(backend, edit)
        except BackendUnavailableError:
            raise
        except ArtifactDeskError as exc:
            outcome = EditOutcome(edit, _current(backend, edit.version_id), _refused(edit, exc))
        shown = mirror.version(edit.version_id)
        if outcome.problem is not None and shown is not None:
            # No event follows a refused edit: undo what queue_edit showed, on this version
            # and on the one an alias was taken from.
            mirror.replace_collection(*_fetch_collection(backend, shown.project, shown.name))
        elif outcome.version is not None:
            mirror.put_version(outcome.version)
        mirror.drop_edit(edit.id)
        outcomes.append(outcome)
    return outcomes


def _apply_edit(backend: Backend, edit: PendingEdit) -> EditOutcome:
    if edit.kind == "description":
        current = backend.get_version(edit.version_id)
        if current.description not in (edit.base, edit.value):
            label = current.qualified_name
            return EditOutcome(
                edit,
                current,
                f"The description of {label} was changed elsewhere while you were offline, "
                f"to {current.description!r}; your edit {edit.value!r} was not applied. "
                "Edit it again if yours should win.",
            )
        return EditOutcome(edit, backend.update_version(edit.version_id, description=edit.value))
    if edit.kind == "add_alias":
        return EditOutcome(edit, backend.add_alias(edit.version_id, edit.value))
    try:
        return EditOutcome(edit, backend.remove_alias(edit.version_id, edit.value))
    except NotFoundError:
        # Already gone (removed or moved elsewhere): what the user wanted holds.
        return EditOutcome(edit, backend.get_version(edit.version_id))


def _current(backend: Backend, version_id: str) -> VersionInfo | None:
    try:
        return backend.get_version(version_id)
    except NotFoundError:
        return None


def _refused(edit: PendingEdit, exc: ArtifactDeskError) -> str:
    what = {
        "description": "the description edit",
        "add_alias": f"adding alias {edit.value!r}",
        "remove_alias": f"removing alias {edit.value!r}",
    }[edit.kind]
    return f"The server refused {what} made while offline: {exc}"
