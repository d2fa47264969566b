"""Knowledge documents are checked, chunked with stable ids, and the shipped corpus is complete in both languages."""

from pathlib import Path

import pytest

from assistant.knowledge.documents import KNOWLEDGE_DIR, KnowledgeError, chunk_document, load_documents, parse_document

DOC = """---
id: sample-doc
title: Sample guidance
lang: en
sections: [budget, timeline]
tags: [budget]
---
# Sample guidance

Why budgets matter.

## Licences

Per-user licences cost money.

### Hidden costs

Storage add-ons.

## Training

Plan two days per user.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_chunks_follow_headings_with_stable_ids(tmp_path):
    doc = parse_document(_write(tmp_path / "en", "sample-doc.md", DOC))
    chunks = chunk_document(doc)
    assert [c.id for c in chunks] == [
        "en/sample-doc#intro",
        "en/sample-doc#licences",
        "en/sample-doc#licences-hidden-costs",
        "en/sample-doc#training",
    ]
    assert chunks[2].heading == "Licences / Hidden costs"
    assert chunks[2].text == "Storage add-ons."
    assert chunks[0].sections == ("budget", "timeline")
    assert chunks[0].tags == ("budget",)
    assert chunk_document(doc) == chunks  # deterministic
    assert chunks[1].content_hash != chunks[3].content_hash


TRAINING = """Before the kick-off:

Plan two days per user for the first training, and half a day for every administrator on top of it.

- Sales reps: pipeline and reminders.
- Managers: dashboards.
- Admins: users, rights and imports.

A refresher a month after go-live catches the habits that did not stick, and the questions nobody asked.

Budget it now."""


def test_each_paragraph_is_a_chunk_with_short_blocks_merged_into_the_next(tmp_path):
    """Blank lines separate chunks; a list stays whole; a block under 80 characters joins its neighbour."""
    doc = parse_document(_write(tmp_path / "en", "sample-doc.md", DOC.replace("Plan two days per user.", TRAINING)))
    training = [c for c in chunk_document(doc) if c.heading == "Training"]
    assert [c.id for c in training] == [
        "en/sample-doc#training",
        "en/sample-doc#training-2",
        "en/sample-doc#training-3",
    ]
    assert training[0].text.startswith("Before the kick-off:\n\nPlan two days per user")
    assert (
        training[1].text
        == "- Sales reps: pipeline and reminders.\n- Managers: dashboards.\n- Admins: users, rights and imports."
    )
    assert training[2].text.startswith("A refresher") and training[2].text.endswith("\n\nBudget it now.")
    assert training[1].embedded_text == f"Sample guidance — Training\n{training[1].text}"
    assert "\n\n".join(c.text for c in training) == TRAINING


def test_a_huge_paragraph_is_cut_under_max_chars(tmp_path):
    huge = " ".join(f"Sentence {i} says something about the training plan of the project." for i in range(20))
    doc = parse_document(_write(tmp_path / "en", "sample-doc.md", DOC.replace("Plan two days per user.", huge)))
    training = [c for c in chunk_document(doc, max_chars=300) if c.heading == "Training"]
    assert len(training) > 1
    assert all(len(c.text) <= 300 for c in training)
    assert training[1].id == "en/sample-doc#training-2"
    assert " ".join(c.text for c in training) == huge


def test_tags_are_part_of_the_content_hash(tmp_path):
    """A tag change must re-embed the document's chunks: tags feed the keyword index."""
    before = chunk_document(parse_document(_write(tmp_path / "en", "sample-doc.md", DOC)))
    retagged = DOC.replace("tags: [budget]", "tags: [budget, licences]")
    after = chunk_document(parse_document(_write(tmp_path / "en", "sample-doc.md", retagged)))
    assert [c.embedded_text for c in after] == [c.embedded_text for c in before]
    assert all(a.content_hash != b.content_hash for a, b in zip(after, before, strict=True))
    assert after[0].tags == ("budget", "licences")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# No front matter\n\nJust text that is long enough.", "has no front matter"),
        ("---\nid: [unclosed\n---\nBody text long enough here.", "not valid YAML"),
        (DOC.replace("lang: en", "lang: de"), "`lang`"),
        (DOC.replace("sections: [budget, timeline]", "sections: [pricing]"), "`sections.0`"),
        (DOC.replace("id: sample-doc", "id: other-doc"), "differs from the file name"),
        (DOC.replace("title: Sample guidance\n", ""), "`title`"),
        (DOC.split("# Sample guidance")[0], "no text"),
    ],
)
def test_bad_documents_name_the_file_and_the_reason(tmp_path, text, reason):
    path = _write(tmp_path / "en", "sample-doc.md", text)
    with pytest.raises(KnowledgeError) as caught:
        parse_document(path)
    assert caught.value.path == path
    assert reason in str(caught.value)
    assert "sample-doc.md" in str(caught.value)


def test_non_utf8_document_is_refused(tmp_path):
    path = tmp_path / "en" / "sample-doc.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(DOC.encode("utf-16"))
    with pytest.raises(KnowledgeError, match="UTF-8"):
        parse_document(path)


def test_language_must_match_folder(tmp_path):
    with pytest.raises(KnowledgeError, match="does not match its folder"):
        parse_document(_write(tmp_path / "fr", "sample-doc.md", DOC))


def test_shipped_corpus_pairs_every_document_in_both_languages():
    documents = load_documents(KNOWLEDGE_DIR)
    by_lang = {lang: {d.meta.id for d in documents if d.meta.lang == lang} for lang in ("fr", "en")}
    assert by_lang["fr"] == by_lang["en"]
    assert len(by_lang["fr"]) >= 30
    for doc in documents:
        assert 300 <= len(doc.body.split()) <= 1200, doc.path
        assert len(chunk_document(doc)) >= 4, doc.path
