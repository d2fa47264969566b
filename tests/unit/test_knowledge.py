"""Knowledge documents are checked, chunked with stable ids, and the shipped corpus is complete in both languages."""

from pathlib import Path

import pytest

from assistant.knowledge import (
    REPO_KNOWLEDGE_DIR,
    KnowledgeError,
    chunk_document,
    load_documents,
    parse_document,
)

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
    assert chunk_document(doc) == chunks  # deterministic
    assert chunks[1].content_hash != chunks[3].content_hash


def test_long_sections_are_split_at_paragraphs(tmp_path):
    long_body = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10))
    doc = parse_document(_write(tmp_path / "en", "sample-doc.md", DOC.replace("Plan two days per user.", long_body)))
    training = [c for c in chunk_document(doc, max_chars=700) if c.id.startswith("en/sample-doc#training")]
    assert len(training) > 1
    assert all(len(c.text) <= 700 for c in training)
    assert training[1].id == "en/sample-doc#training-2"
    assert " ".join(c.text for c in training).count("Paragraph") == 10


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
    documents = load_documents(REPO_KNOWLEDGE_DIR)
    by_lang = {lang: {d.meta.id for d in documents if d.meta.lang == lang} for lang in ("fr", "en")}
    assert by_lang["fr"] == by_lang["en"]
    assert len(by_lang["fr"]) >= 30
    for doc in documents:
        assert 300 <= len(doc.body.split()) <= 1200, doc.path
        assert len(chunk_document(doc)) >= 4, doc.path
