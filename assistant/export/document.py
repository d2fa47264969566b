"""The whole specification as every export sees it: title page facts, revisions, the executive summary, sections
in order, glossary, and the approval page (who approved each part and when, then a sign-off table).

Built once from the review state (`draft.review`), so the Markdown, DOCX and PDF exports cannot disagree: each
draws the same `SpecDocument`. The glossary is computed from the final section texts (reviewers' words
included): every acronym found, with the template's definition, a definition written in the text itself
("Customer Lifetime Value (CLV)"), or a visible "to be defined".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from assistant.draft.sections import ProjectContent
from assistant.draft.summary import write_summary
from assistant.draft.template import DraftTemplate, template_for
from assistant.draft.workflow import GENERATOR, review
from assistant.schemas import Project, SectionId, SectionState
from assistant.store import Store

SIGNATURE_ROWS = 3
"""Blank sign-off rows when nobody interviewed is recorded yet."""
MAX_REVISION_ROWS = 25
"""The revision table shows the newest rows; the full history stays in each section's history."""

_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z0-9&]{1,5})s?(?![\w-])")
"""Two to six capitals, digits or "&": longer all-capital words are shouting ("HYPERLINK"), not acronyms."""
_ROMAN = re.compile(r"^X{0,3}(?:IX|IV|V?I{0,3})$")
"""Small Roman numerals number phases ("phase II"); "CLV" is an acronym, not 155."""


@dataclass(frozen=True)
class DocumentSection:
    """One part of the document: a numbered section, or (with `section` None) the executive summary before them."""

    title: str
    body: str
    section: SectionId | None = None
    state: SectionState | None = None


@dataclass(frozen=True)
class Revision:
    date: str
    section: str
    version: int
    state: str
    author: str


@dataclass(frozen=True)
class Approval:
    """One row of the approval page: a numbered part, its review state and, when approved, by whom and when.

    Only the part's current text counts: an approval followed by an edit no longer approves what the reader sees,
    so that part shows its edited state and no approver."""

    section: str
    state: str
    author: str
    date: str


@dataclass(frozen=True)
class SpecDocument:
    project: Project
    template: DraftTemplate
    date: str
    revision: int
    status: str
    revisions: list[Revision]
    older_revisions: int
    sections: list[DocumentSection]
    glossary: list[tuple[str, str]]
    approvals: list[Approval]
    signatories: list[tuple[str, str]]
    """(name, role) of the people interviewed, for the sign-off table; empty lines are left when there are none."""

    @property
    def kind(self) -> str:
        """ "Cahier des charges CRM" / "CRM requirements specification"."""
        return self.template.document.kind

    @property
    def title(self) -> str:
        return self.project.name

    def approval_rows(self) -> list[list[str]]:
        return [[a.section, a.state, a.author, a.date] for a in self.approvals]

    def signature_rows(self) -> list[list[str]]:
        """Name, role and two blank cells (date, signature) per person interviewed; three blank rows without any."""
        people = self.signatories or [("", "")] * SIGNATURE_ROWS
        return [[name, role, "", ""] for name, role in people]

    def facts(self) -> list[tuple[str, str]]:
        """The title page's label/value pairs, in order (values are plain text, not Markdown)."""
        labels = self.template.document
        pairs = [(labels.project, self.project.name)]
        if self.project.company:
            pairs.append((labels.company, self.project.company))
        pairs += [(labels.date, self.date), (labels.revision, str(self.revision)), (labels.status, self.status)]
        return pairs


def build_document(store: Store, project_id: str, *, today: date | None = None) -> SpecDocument:
    """The document as it stands: reviewed texts where there are some, generated text elsewhere.

    Args:
        today: the date printed on the title page (tests fix it; exports use the current date).
    """
    content = ProjectContent.load(store, project_id)
    project = content.project
    template = template_for(project.language)
    views = review(store, project_id, content)
    sections = [DocumentSection(template.summary.title, write_summary(content, template))] + [
        DocumentSection(template.numbered_title(section), view.text, section, view.state)
        for section, view in views.items()
    ]
    histories = {section: store.section_history(project_id, section) for section in SectionId}
    # A document's revisions are what people did (edits, approvals, accepted proposals, restores); the generator's
    # own versions are in each section's history, and would bury those few rows under a dozen "generated" ones.
    stored = [
        version
        for history in histories.values()
        for version in history
        if version.state is not SectionState.PROPOSED and version.author != GENERATOR
    ]
    stored.sort(key=lambda version: (version.created_at, version.section.value, version.version), reverse=True)
    revisions = [
        Revision(
            date=format_date(version.created_at.date(), format="medium", locale=template.locale),
            section=template.section(version.section).title,
            version=version.version,
            state=template.label(version.state),
            author=version.author,
        )
        for version in stored[:MAX_REVISION_ROWS]
    ]
    approved = sum(view.state is SectionState.APPROVED for view in views.values())
    none = template.document.approvals_none
    approvals = []
    for section, view in views.items():
        approval = next((v for v in reversed(histories[section]) if v.state is not SectionState.PROPOSED), None)
        if view.state is not SectionState.APPROVED or approval is None:
            approvals.append(Approval(template.numbered_title(section), template.label(view.state), none, none))
            continue
        day = format_date(approval.created_at.date(), format="medium", locale=template.locale)
        approvals.append(Approval(template.numbered_title(section), template.label(view.state), approval.author, day))
    return SpecDocument(
        project=project,
        template=template,
        date=format_date(today or date.today(), format="long", locale=template.locale),
        revision=len(stored),
        status=template.plural(template.document.status_line, approved, approved=approved, total=len(views)),
        revisions=revisions,
        older_revisions=max(0, len(stored) - MAX_REVISION_ROWS),
        sections=sections,
        glossary=glossary([section.body for section in sections] + [project.name, project.company], template),
        approvals=approvals,
        signatories=[(person.name, person.role) for person in content.stakeholders],
    )


def glossary(texts: list[str], template: DraftTemplate) -> list[tuple[str, str]]:
    """(acronym, definition) for every acronym or known term used in `texts`, alphabetically."""
    joined = "\n".join(texts).replace("\\", "")  # Markdown escapes would hide "R&D" behind "R\&D"
    ignored = set(template.glossary_ignore)
    found: dict[str, str] = {}
    for match in _ACRONYM.finditer(joined):
        acronym = match.group(1)
        if acronym in ignored or _ROMAN.match(acronym) or sum(char.isalpha() for char in acronym) < 2:
            continue
        found.setdefault(acronym, "")
    for term in template.glossary_terms:
        if term not in found and re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", joined):
            found[term] = ""
    for acronym in found:
        found[acronym] = (
            template.glossary_terms.get(acronym)
            or _defined_in_text(acronym, joined)
            or template.document.glossary_undefined
        )
    return sorted(found.items(), key=lambda pair: pair[0].casefold())


def _defined_in_text(acronym: str, text: str) -> str:
    """The long form written next to the acronym: "Customer Lifetime Value (CLV)" or "CLV (Customer …)"."""
    before = re.search(rf"((?:[\w'’-]+\s+){{1,{len(acronym) + 3}}})\(\s*{re.escape(acronym)}\s*\)", text)
    if before:
        words = before.group(1).split()
        letters = [char for char in acronym if char.isalpha()]
        candidate = words[-len(letters) :] if len(words) >= len(letters) else words
        if [word[0].upper() for word in candidate] == letters:
            return " ".join(candidate)
    after = re.search(rf"(?<![\w-]){re.escape(acronym)}\s*\(([^()\n]{{3,80}})\)", text)
    if after and re.fullmatch(r"[A-Za-zÀ-ÿ][\w'’-]*(?:\s+[\w'’-]+)+", after.group(1).strip()):
        return after.group(1).strip()
    return ""
