"""The project as a merge sees it: objects in memory, ids drawn ahead of time, and the change set that results.

A merge never touches the store. It reads a `MergeSnapshot`, works on a `Workspace`, and hands back a
`ChangeSet` that the store writes in one transaction with the extraction's status (or refuses whole, when
something moved meanwhile).

Re-extraction replaces, it does not add: the workspace starts from the project *without* what this answer
produced before (the objects it created, its turn in the sources of objects it joined), the merge runs as if
for the first time, and the ids the answer created before are handed out again in the same order. The same
findings therefore give back the same objects, ids and versions, however often an answer is re-extracted.
"""

from __future__ import annotations

from typing import TypeVar

from assistant.schemas import ChangeSet, MergeSnapshot, PlannedSave, Tracked
from assistant.store.rows import id_sort_key
from assistant.text import fold

T = TypeVar("T", bound=Tracked)


class Workspace:
    """The objects of one project while one answer's findings are merged into it.

    Args:
        snapshot: the store's state, read in one transaction.
        turn_id: the answer being merged.
    """

    def __init__(self, snapshot: MergeSnapshot, turn_id: int) -> None:
        self.snapshot = snapshot
        self.turn_id = turn_id
        self._prior = set(snapshot.made_by_turn)
        self._current: dict[str, Tracked] = {obj.id: obj for _, items in snapshot.objects.items() for obj in items}
        self._objects: dict[str, Tracked] = {}
        for object_id, obj in self._current.items():
            if object_id in self._prior:
                continue  # re-derived from the findings, or removed
            if object_id in snapshot.touched_by_turn and turn_id in obj.source_turn_ids:
                obj = obj.model_copy(update={"source_turn_ids": [t for t in obj.source_turn_ids if t != turn_id]})
            self._objects[object_id] = obj
        self._reusable: dict[str, list[str]] = {}
        for object_id in snapshot.made_by_turn:
            self._reusable.setdefault(object_id.rsplit("-", 1)[0], []).append(object_id)
        self._counters = dict(snapshot.counters)
        self._authors: dict[str, str] = {}
        self._withdrawn = {_identity(obj) for obj in snapshot.withdrawn}

    def list(self, cls: type[T]) -> list[T]:
        """The objects of `cls` as the merge has them so far, in id order (as the store lists them)."""
        found = [obj for obj in self._objects.values() if type(obj) is cls]
        return sorted(found, key=lambda obj: id_sort_key(obj.id))

    def new_id(self, cls: type[Tracked]) -> str:
        """The id for a new object: one this answer had created before, else the next number of its prefix."""
        reusable = self._reusable.get(cls.id_prefix)
        if reusable:
            return reusable.pop(0)
        number = self._counters.get(cls.id_prefix, 0) + 1
        self._counters[cls.id_prefix] = number
        return f"{cls.id_prefix}-{number:03d}"

    def save(self, obj: Tracked, *, by: str | None = None) -> None:
        """Keep `obj` as the merge's version of it; `by` names who the history credits, when not the speaker.

        A new object that a person had deleted after this answer first produced it is not brought back.
        """
        if obj.id not in self._current and _identity(obj) in self._withdrawn:
            return
        self._objects[obj.id] = obj
        if by is not None:
            self._authors[obj.id] = by

    def has(self, object_id: str) -> bool:
        return object_id in self._objects

    def change_set(self) -> ChangeSet:
        """What must be written to turn the snapshot into the workspace: saves, deletes and id counters."""
        versions = self.snapshot.versions
        saves: list[PlannedSave] = []
        for object_id, obj in self._objects.items():
            current = self._current.get(object_id)
            if current is not None and object_id in self._prior:
                # Later answers merged into this object since it was created: their part stays.
                obj = obj.model_copy(
                    update={
                        "source_turn_ids": sorted({*obj.source_turn_ids, *current.source_turn_ids}),
                        "stakeholder_ids": sorted({*obj.stakeholder_ids, *current.stakeholder_ids}),
                    }
                )
            if current is None or obj != current:
                saves.append(PlannedSave(obj, versions.get(object_id, 0), self._authors.get(object_id)))
        deletes = []
        for object_id in self.snapshot.made_by_turn:
            if object_id in self._objects or object_id not in self._current:
                continue
            current = self._current[object_id]
            if any(turn > self.turn_id for turn in current.source_turn_ids):
                # No longer found in this answer, but a later answer said it too: it stays, as theirs.
                kept = current.model_copy(
                    update={"source_turn_ids": [t for t in current.source_turn_ids if t != self.turn_id]}
                )
                saves.append(PlannedSave(kept, versions[object_id]))
            else:
                deletes.append((object_id, versions[object_id]))
        # The counters move to the highest new number written: an id drawn for an object that was then not kept
        # (a person had deleted it) is handed out again next time.
        counters: dict[str, tuple[int, int]] = {}
        for save in saves:
            prefix, _, number = save.obj.id.rpartition("-")
            start = self.snapshot.counters.get(prefix, 0)
            if save.expected_version == 0 and int(number) > start:
                counters[prefix] = (start, max(int(number), counters.get(prefix, (start, start))[1]))
        return ChangeSet(saves=saves, deletes=deletes, id_counters=counters)


def _identity(obj: Tracked) -> tuple[str, str]:
    """What makes two objects of one answer "the same" for a person's deletion: their type and folded wording."""
    return type(obj).__name__, fold(obj.headline)
