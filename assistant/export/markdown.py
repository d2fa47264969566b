"""The Markdown export: the whole specification as one readable `.md` file (GitHub-flavoured tables).

Headings: the document title is `#`, each part `##` (numbered), subheadings inside a part `###`; the table of
contents links to GitHub-style anchors. Section texts are written as reviewed, with raw HTML neutralised.
"""

from __future__ import annotations

import re
from datetime import date

from assistant.draft.markup import bullets, escape, neutralise_html, table
from assistant.export.document import SpecDocument, build_document
from assistant.store import Store


def render_markdown(document: SpecDocument) -> str:
    """The document as Markdown text."""
    labels = document.template.document
    colon = document.template.colon
    parts = [f"# {escape(document.kind)} — {escape(document.title)}"]
    parts.append(bullets([f"**{label}{colon}** {escape(value)}" for label, value in document.facts()]))
    parts.append(f"*{labels.prepared_by}*")

    parts.append(f"## {labels.revisions_title}")
    if document.revisions:
        parts.append(
            table(
                labels.revisions_columns,
                [
                    [escape(r.date), escape(r.section), str(r.version), escape(r.state), escape(r.author)]
                    for r in document.revisions
                ],
            )
        )
        if document.older_revisions:
            parts.append(f"*{document.template.plural(labels.revisions_older, document.older_revisions)}*")
    else:
        parts.append(f"*{labels.revisions_empty}*")

    parts.append(f"## {labels.toc_title}")
    titles = [section.title for section in document.sections] + [labels.glossary_title, labels.approvals_title]
    parts.append(bullets([f"[{title}](#{anchor(title)})" for title in titles]))  # titles are template text

    for section in document.sections:
        parts.append(f"## {section.title}")
        parts.append(neutralise_html(section.body).strip("\n"))

    parts.append(f"## {labels.glossary_title}")
    if document.glossary:
        parts.append(labels.glossary_intro)
        parts.append(table(labels.glossary_columns, [[escape(a), escape(d)] for a, d in document.glossary]))
    else:
        parts.append(f"*{labels.glossary_empty}*")

    parts.append(f"## {labels.approvals_title}")
    parts.append(labels.approvals_intro)
    approvals = [[a.section, a.state, escape(a.author), a.date] for a in document.approvals]  # only names are typed
    parts.append(table(labels.approvals_columns, approvals))
    parts.append(f"### {labels.signatures_title}")
    parts.append(labels.signatures_intro)
    parts.append(
        table(labels.signatures_columns, [[escape(cell) for cell in row] for row in document.signature_rows()])
    )
    return "\n\n".join(part for part in parts if part) + "\n"


def anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def export_markdown(store: Store, project_id: str, *, today: date | None = None) -> str:
    """The project's specification as Markdown."""
    return render_markdown(build_document(store, project_id, today=today))
