"""Draft review: generated → edited → approved section versions, proposals instead of overwrites, and history.

Every change is a new row of the store's append-only `section_versions`, so the whole life of a section can be
shown and any version restored. The rules, in the order a reviewer meets them:

- A section nobody has touched (state `generated`) follows the objects: `regenerate` stores the new text as the
  next `generated` version, and the document always shows what the objects say now.
- A section a person edited or approved is never overwritten. When the objects change, `regenerate` stores the
  new text as a `proposed` version: the section shows "changes available" with a unified diff, and the
  reviewer accepts it (the section becomes `generated` again, owned by the generator) or dismisses it.
- A dismissal is stored as an empty `proposed` version. It withdraws the pending proposal without copying the
  reviewed text (whose author and approval stay where they were), and `regenerate` does not offer the same text
  again: only a new change of the objects brings a new proposal.
- Editing an approved section makes it `edited`: approval covers a text, not a section.
- Writes take the `expected_version` the caller read; a stale one is refused with `StaleWriteError`, so two
  reviewers cannot silently overwrite each other.

Why proposals are versions rather than a separate table: the store's section history is already append-only and
versioned under one counter, so a proposal shares the optimistic-locking check with edits for free (an edit and
an acceptance cannot both win), it travels in the JSON export unchanged, and no schema migration is needed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

from assistant.draft.sections import ProjectContent, render_sections
from assistant.errors import InputError, StaleWriteError
from assistant.schemas import DraftSection, SectionId, SectionState
from assistant.store import Store

MAX_EDIT_CHARS = 100_000
"""Longest section text a reviewer may save (about 40 pages); the largest generated sections stay well below."""

GENERATOR = "cahier"
"""Author of the versions Cahier writes by itself."""

REGENERATE_ATTEMPTS = 3
"""How often `regenerate` re-reads a section that a reviewer changed between its read and its write."""

REVIEWED = frozenset({SectionState.EDITED, SectionState.APPROVED})


class Outcome(StrEnum):
    """What `regenerate` did to one section."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    PROPOSED = "proposed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class SectionView:
    """A section as the review page and the exports see it.

    Attributes:
        text: what the document shows: the reviewed text, or for a generated section the text the objects give now.
        state: `generated`, `edited` or `approved` (never `proposed`).
        version: the newest stored version of the section (0 before any), to pass back as `expected_version`.
        proposal: the pending proposal, if any.
        diff: unified diff from `text` to the proposal; empty without a proposal.
    """

    section: SectionId
    text: str
    state: SectionState
    version: int
    proposal: DraftSection | None = None
    diff: str = ""

    @property
    def changes_available(self) -> bool:
        return self.proposal is not None


@dataclass(frozen=True)
class HistoryEntry:
    """One stored version with what happened: generated, edited, approved, proposed, accepted, dismissed…"""

    version: DraftSection
    event: str


def assemble(store: Store, project_id: str) -> dict[SectionId, str]:
    """The freshly generated Markdown of every section, in document order; reads only, writes nothing."""
    return render_sections(ProjectContent.load(store, project_id))


def _current(history: list[DraftSection]) -> DraftSection | None:
    """The newest version that is the section's text (proposals are not)."""
    return next((v for v in reversed(history) if v.state is not SectionState.PROPOSED), None)


def _pending(history: list[DraftSection]) -> DraftSection | None:
    """The proposal waiting for a reviewer: the newest proposal, unless an acceptance, a regeneration or a
    dismissal came after it. Edits and approvals leave it pending: they do not answer it."""
    for version in reversed(history):
        if version.state is SectionState.PROPOSED:
            return version if version.text else None
        if version.state is SectionState.GENERATED:
            return None
    return None


def _last_machine_text(history: list[DraftSection]) -> str | None:
    """The newest text Cahier itself produced for the section (a generated version or a proposal)."""
    return next(
        (v.text for v in reversed(history) if v.state in (SectionState.GENERATED, SectionState.PROPOSED) and v.text),
        None,
    )


def unified_diff(before: str, after: str, *, before_label: str, after_label: str) -> str:
    """A readable line diff of two section texts (empty when they are equal)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_label, after_label, n=2
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _view(section: SectionId, history: list[DraftSection], generated: str) -> SectionView:
    current = _current(history)
    latest = history[-1].version if history else 0
    if current is None or current.state is SectionState.GENERATED:
        return SectionView(section, generated, SectionState.GENERATED, latest)
    proposal = _pending(history)
    diff = ""
    if proposal is not None:
        diff = unified_diff(
            current.text,
            proposal.text,
            before_label=f"version {current.version} ({current.state.value})",
            after_label=f"proposal (version {proposal.version})",
        )
    return SectionView(section, current.text, current.state, latest, proposal, diff)


def review(store: Store, project_id: str, content: ProjectContent | None = None) -> dict[SectionId, SectionView]:
    """Every section as the reviewer and the exports see it, in document order.

    Args:
        content: the project's objects, when the caller has read them already (the document export does).
    """
    generated = render_sections(content or ProjectContent.load(store, project_id))
    return {
        section: _view(section, store.section_history(project_id, section), generated[section]) for section in SectionId
    }


def section_view(store: Store, project_id: str, section: SectionId | str) -> SectionView:
    section = SectionId(section)
    return review(store, project_id)[section]


def stored(store: Store, project_id: str, section: SectionId | str) -> tuple[DraftSection | None, int]:
    """What is stored for a section now: the newest version holding its text (None before any), and the newest
    version number (what the next write must expect). A reviewer whose save was refused is shown the first."""
    history = store.section_history(project_id, SectionId(section))
    return _current(history), history[-1].version if history else 0


def regenerate(store: Store, project_id: str, author: str = GENERATOR) -> dict[SectionId, Outcome]:
    """Write the draft again from the objects without ever overwriting a person's words.

    Generated sections get a new `generated` version when their text changed; edited and approved ones get a
    `proposed` version instead (or the pending proposal is withdrawn when the objects came back to the reviewed
    text). A reviewer's write that lands between this function's read and write wins: the section is read again.
    """
    generated = assemble(store, project_id)
    outcomes: dict[SectionId, Outcome] = {}
    for section in SectionId:
        for attempt in range(REGENERATE_ATTEMPTS):
            try:
                outcomes[section] = _regenerate_one(store, project_id, section, generated[section], author)
                break
            except StaleWriteError:
                if attempt == REGENERATE_ATTEMPTS - 1:
                    raise
    return outcomes


def _regenerate_one(store: Store, project_id: str, section: SectionId, text: str, author: str) -> Outcome:
    history = store.section_history(project_id, section)
    latest = history[-1].version if history else 0

    def append(state: SectionState, body: str) -> None:
        store.append_section_version(project_id, section, body, state=state, author=author, expected_version=latest)

    current = _current(history)
    if current is None:
        append(SectionState.GENERATED, text)
        return Outcome.CREATED
    if current.state is SectionState.GENERATED:
        if current.text == text:
            return Outcome.UNCHANGED
        append(SectionState.GENERATED, text)
        return Outcome.UPDATED
    pending = _pending(history)
    if current.text == text:
        if pending is None:
            return Outcome.UNCHANGED
        append(SectionState.PROPOSED, "")
        return Outcome.WITHDRAWN
    if pending is not None and pending.text == text:
        return Outcome.UNCHANGED
    if pending is None and _last_machine_text(history) == text:
        return Outcome.UNCHANGED  # the reviewer already saw this text and edited, approved or dismissed past it
    append(SectionState.PROPOSED, text)
    return Outcome.PROPOSED


def _history(store: Store, project_id: str, section: SectionId | str) -> tuple[SectionId, list[DraftSection]]:
    section = SectionId(section)
    store.get_project(project_id)  # NotFoundError for an unknown project, not an empty history
    return section, store.section_history(project_id, section)


def _check_expected(section: SectionId, history: list[DraftSection], expected_version: int | None) -> None:
    latest = history[-1].version if history else 0
    if expected_version is not None and expected_version != latest:
        raise StaleWriteError(section.value, expected_version, latest)


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").rstrip() + "\n"


def _check_edit(text: str) -> str:
    if len(text) > MAX_EDIT_CHARS:
        raise InputError(
            "section text",
            f"the section text is {len(text):,} characters long; the limit is {MAX_EDIT_CHARS:,}. "
            "Move long lists or examples to an annex, or split the section.",
        )
    if not text.strip():
        raise InputError(
            "section text",
            "the section text is empty; write what applies (for example 'Not applicable.') or restore a version",
        )
    return _normalised(text)


def edit_section(
    store: Store,
    project_id: str,
    section: SectionId | str,
    text: str,
    *,
    author: str,
    expected_version: int | None,
) -> DraftSection:
    """Save a reviewer's text as the section's new `edited` version (an approved section goes back to edited).

    Args:
        expected_version: `SectionView.version` as read; pass None only where no concurrent reviewer can exist.

    Raises:
        InputError: the text is blank or longer than `MAX_EDIT_CHARS`; nothing is stored.
        StaleWriteError: someone stored a version of the section since `expected_version`.
    """
    body = _check_edit(text)
    section, history = _history(store, project_id, section)
    _check_expected(section, history, expected_version)
    current = _current(history)
    if current is not None and current.state in REVIEWED and current.text == body:
        return current  # saving an unchanged text keeps its approval and adds no version
    return store.append_section_version(
        project_id, section, body, state=SectionState.EDITED, author=author, expected_version=expected_version
    )


def approve_section(
    store: Store, project_id: str, section: SectionId | str, *, author: str, expected_version: int | None
) -> DraftSection:
    """Approve the text the section shows now (for a generated section, the text the objects give now)."""
    section, history = _history(store, project_id, section)
    _check_expected(section, history, expected_version)
    current = _current(history)
    text = current.text if current is not None and current.state in REVIEWED else assemble(store, project_id)[section]
    return store.append_section_version(
        project_id, section, text, state=SectionState.APPROVED, author=author, expected_version=expected_version
    )


def _pending_or_refuse(
    store: Store, project_id: str, section: SectionId | str, expected_version: int | None, verb: str
) -> tuple[SectionId, list[DraftSection], DraftSection]:
    """The section's history and its pending proposal, after the stale-version check; `InputError` without one."""
    section, history = _history(store, project_id, section)
    _check_expected(section, history, expected_version)
    proposal = _pending(history)
    if proposal is None:
        raise InputError("proposal", f"section `{section.value}` has no pending proposal to {verb}")
    return section, history, proposal


def accept_proposal(
    store: Store, project_id: str, section: SectionId | str, *, author: str, expected_version: int | None = None
) -> DraftSection:
    """Take the pending proposal as the section's text; the section is `generated` again and follows the objects.

    Raises:
        InputError: there is no pending proposal.
    """
    section, history, proposal = _pending_or_refuse(store, project_id, section, expected_version, "accept")
    return store.append_section_version(
        project_id,
        section,
        proposal.text,
        state=SectionState.GENERATED,
        author=author,
        expected_version=history[-1].version,
    )


def dismiss_proposal(
    store: Store, project_id: str, section: SectionId | str, *, author: str, expected_version: int | None = None
) -> DraftSection:
    """Keep the reviewed text and withdraw the pending proposal (stored as an empty proposal by `author`).

    Raises:
        InputError: there is no pending proposal.
    """
    section, history, _ = _pending_or_refuse(store, project_id, section, expected_version, "dismiss")
    return store.append_section_version(
        project_id, section, "", state=SectionState.PROPOSED, author=author, expected_version=history[-1].version
    )


def restore_version(
    store: Store,
    project_id: str,
    section: SectionId | str,
    version: int,
    *,
    author: str,
    expected_version: int | None = None,
) -> DraftSection:
    """Bring back the text of an earlier version as a new `edited` version: a person chose it, so it is kept.

    Raises:
        InputError: the version does not exist or is a dismissal (which has no text).
    """
    section, history = _history(store, project_id, section)
    _check_expected(section, history, expected_version)
    chosen = next((v for v in history if v.version == version), None)
    if chosen is None or not chosen.text:
        known = ", ".join(str(v.version) for v in history if v.text) or "none"
        raise InputError(
            "version", f"section `{section.value}` has no version {version} to restore (versions: {known})"
        )
    return store.append_section_version(
        project_id,
        section,
        chosen.text,
        state=SectionState.EDITED,
        author=author,
        expected_version=history[-1].version,
    )


def history(store: Store, project_id: str, section: SectionId | str) -> list[HistoryEntry]:
    """Every stored version of a section, oldest first, each with the event it records."""
    section, versions = _history(store, project_id, section)
    entries = []
    seen: list[DraftSection] = []
    for version in versions:
        entries.append(HistoryEntry(version, _event(version, seen)))
        seen.append(version)
    return entries


def _event(version: DraftSection, before: list[DraftSection]) -> str:
    if version.state is SectionState.PROPOSED:
        if version.text:
            return "proposed"
        return "withdrawn" if version.author == GENERATOR else "dismissed"
    pending = _pending(before)
    if version.state is SectionState.GENERATED and pending is not None and pending.text == version.text:
        return "accepted"
    if version.state is SectionState.EDITED and any(v.text == version.text for v in before[:-1]):
        return "restored"
    return version.state.value


def diff_versions(store: Store, project_id: str, section: SectionId | str, old: int, new: int) -> str:
    """Unified diff between two stored versions of a section."""
    section, versions = _history(store, project_id, section)
    by_number = {v.version: v for v in versions}
    for number in (old, new):
        if number not in by_number:
            raise InputError("version", f"section `{section.value}` has no version {number}")
    return unified_diff(
        by_number[old].text, by_number[new].text, before_label=f"version {old}", after_label=f"version {new}"
    )
