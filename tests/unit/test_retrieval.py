"""The guidance index: real Chroma (on disk and over HTTP), incremental ingest, filters, and a recall floor."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from assistant.config import Settings
from assistant.knowledge.documents import KNOWLEDGE_DIR, KnowledgeError, chunk_document, parse_document
from assistant.knowledge.embeddings import embed_texts
from assistant.knowledge.search import KnowledgeIndex, RetrievalError, _LexicalIndex, lexical_terms, open_index

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"


def _doc(doc_id: str, lang: str, sections: str, body: str, tags: str = "") -> str:
    front = f"id: {doc_id}\ntitle: {doc_id.title()}\nlang: {lang}\nsections: [{sections}]\ntags: [{tags}]"
    return f"---\n{front}\n---\n{body}\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "knowledge"
    for lang in ("en", "fr"):
        (root / lang).mkdir(parents=True)
    (root / "en" / "budget.md").write_text(
        _doc(
            "budget",
            "en",
            "budget",
            "# Budget\n\n## Licences\n\nCount licence fees per user per month.\n\n"
            "## Training\n\nTraining days for every sales rep are part of the budget.",
        ),
        encoding="utf-8",
    )
    (root / "en" / "security.md").write_text(
        _doc(
            "security",
            "en",
            "non_functional",
            "# Security\n\n## Single sign-on\n\nUsers log in with SSO and two-factor authentication, through "
            "the identity provider of the company.\n\nAccounts of people who leave the company are closed on "
            "their last day, from the identity provider.\n\n## Audit\n\nEvery access to a customer record is logged.",
            tags="access control",
        ),
        encoding="utf-8",
    )
    (root / "fr" / "budget.md").write_text(
        _doc(
            "budget",
            "fr",
            "budget",
            "# Budget\n\n## Licences\n\nComptez le coût des licences par utilisateur "
            "et par mois, HT.\n\n## Formation\n\nLes jours de formation des commerciaux font partie du budget.",
        ),
        encoding="utf-8",
    )
    return root


@pytest.fixture
def index(tmp_path) -> KnowledgeIndex:
    return open_index(Settings(data_dir=tmp_path / "data"))


def test_ingest_is_incremental(index, corpus):
    """Only the changed paragraph is re-embedded; a tag change rewrites every chunk of its document."""
    first = index.ingest(corpus)
    assert len(first.added) == index.count() == 7
    assert "en/security#single-sign-on-2" in first.added
    again = index.ingest(corpus)
    assert not again.changed and again.unchanged == 7

    security = corpus / "en" / "security.md"
    security.write_text(security.read_text().replace("two-factor", "hardware-key"), encoding="utf-8")
    (corpus / "fr" / "budget.md").unlink()
    changed = index.ingest(corpus)
    assert changed.updated == ["en/security#single-sign-on"]
    assert changed.added == []
    assert sorted(changed.deleted) == ["fr/budget#formation", "fr/budget#licences"]
    assert index.count() == 5
    assert "hardware-key" in index.search("hardware key login", lang="en", k=1)[0].text

    security.write_text(security.read_text().replace("tags: [access control]", "tags: [sso]"), encoding="utf-8")
    retagged = index.ingest(corpus)
    assert sorted(retagged.updated) == [
        "en/security#audit",
        "en/security#single-sign-on",
        "en/security#single-sign-on-2",
    ]


def test_index_survives_a_new_process(tmp_path, corpus):
    data = tmp_path / "data"
    open_index(Settings(data_dir=data)).ingest(corpus)
    code = (
        "from assistant.config import Settings; from assistant.knowledge.search import open_index;"
        f"i = open_index(Settings(data_dir={str(data)!r}));"
        "print(i.count(), i.search('login with single sign-on', lang='en', k=1)[0].doc_id)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["7", "security"]


def test_filters_by_language_and_section(index, corpus):
    index.ingest(corpus)
    english = index.search("training budget for sales reps", lang="en", k=5)
    assert {s.lang for s in english} == {"en"}
    french = index.search("formation des commerciaux", lang="fr", k=5)
    assert [s.doc_id for s in french] == ["budget"]
    assert french[0].heading == "Formation"
    only_nfr = index.search("budget", lang="en", section="non_functional", k=5)
    assert [s.doc_id for s in only_nfr] == ["security"]
    assert index.search("budget", lang="fr", section="timeline") == []


def test_one_snippet_per_document_best_first(index, corpus):
    index.ingest(corpus)
    results = index.search("Who may see a customer record and how do they log in?", lang="en", k=3)
    assert [s.doc_id for s in results][0] == "security"
    assert len({s.doc_id for s in results}) == len(results)
    assert all(-1.0 <= s.score <= 1.0 for s in results)


def test_the_snippet_is_the_documents_paragraph_closest_in_meaning(index, corpus):
    """Every paragraph of a document is scored; the one shown is the best by cosine, and its score is that cosine."""
    index.ingest(corpus)
    query = "What happens to the account of an employee who leaves?"
    [snippet] = index.search(query, lang="en", section="non_functional", k=1)
    chunks = chunk_document(parse_document(corpus / "en" / "security.md"))
    cosines = embed_texts([c.embedded_text for c in chunks]) @ embed_texts([query])[0]
    best = max(range(len(chunks)), key=lambda i: cosines[i])
    assert snippet.chunk_id == chunks[best].id == "en/security#single-sign-on-2"
    assert snippet.score == pytest.approx(float(cosines[best]), abs=1e-3)
    assert snippet.text == chunks[best].text


def test_keyword_scores_are_per_document_and_count_title_and_tags():
    """BM25 has one entry per language and document: its paragraphs, headings, title and tags together."""

    def meta(doc_id: str, lang: str, heading: str, tags: str, section: str) -> dict:
        return {
            "doc_id": doc_id,
            "lang": lang,
            "title": doc_id.title(),
            "heading": heading,
            "tags": tags,
            section: True,
        }

    lexical = _LexicalIndex(
        ["en/crm#a", "en/crm#a-2", "en/mail#intro", "fr/crm#a"],
        ["Pipeline stages for sales reps.", "Quotes are sent from the pipeline.", "Campaigns and bounces.", "Étapes."],
        [
            meta("crm", "en", "Sales", "", "sec_scope"),
            meta("crm", "en", "Sales", "", "sec_scope"),
            meta("mail", "en", "", "newsletter, mailing", "sec_integrations"),
            meta("crm", "fr", "Ventes", "", "sec_scope"),
        ],
    )
    both_paragraphs = lexical.scores("stages quotes", "en", lambda m: True)
    assert set(both_paragraphs) == {"crm"}
    assert both_paragraphs["crm"] > lexical.scores("stages", "en", lambda m: True)["crm"]
    assert lexical.scores("pipeline", "fr", lambda m: True) == {}  # each language is its own index
    assert set(lexical.scores("newsletter", "en", lambda m: True)) == {"mail"}  # a tag, in no paragraph
    assert set(lexical.scores("mail", "en", lambda m: True)) == {"mail"}  # the title
    assert lexical.scores("newsletter", "en", lambda m: bool(m.get("sec_scope"))) == {}
    assert lexical.chunk_count("en", None) == 3 and lexical.chunk_count("en", "sec_scope") == 2


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_returns_nothing(index, corpus, query):
    index.ingest(corpus)
    assert index.search(query, lang="en") == []


def test_a_broken_document_leaves_the_previous_index_usable(index, corpus):
    index.ingest(corpus)
    (corpus / "en" / "broken.md").write_text("no front matter here, just words", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="broken.md"):
        index.ingest(corpus)
    assert index.count() == 7
    assert index.search("audit of record access", lang="en", k=1)[0].doc_id == "security"


def test_lexical_terms_meet_across_inflections():
    assert lexical_terms("Équipes commerciales", "fr") == lexical_terms("equipe commercial", "fr")
    assert lexical_terms("contacts", "en") == lexical_terms("contact", "en") == ["contact"]
    assert "the" not in lexical_terms("the reminders", "en")


def test_french_terms_read_elisions_accents_lemmas_and_stopwords():
    """French words meet across elision, accents, gender, number and conjugation; stopwords are dropped even
    when only their lemma is listed; and words that merely look alike stay apart."""
    assert lexical_terms("l'équipe", "fr") == lexical_terms("d’équipes", "fr") == lexical_terms("EQUIPE", "fr")
    assert lexical_terms("jusqu'à qu'il n'y", "fr") == []
    assert lexical_terms("aujourd'hui", "fr") == ["aujourd'hui"]  # not an elision: one word
    assert lexical_terms("réversibilité", "fr") == lexical_terms("reversibilite", "fr")
    assert lexical_terms("commerciale", "fr") == lexical_terms("commerciaux", "fr")
    assert lexical_terms("informations conservées", "fr") == lexical_terms("information conserver", "fr")
    assert lexical_terms("prospects", "fr") == lexical_terms("prospect", "fr")  # unknown to the lemmatiser
    assert lexical_terms("Les une sont il faut", "fr") == []  # "les"→"le", "une"→"un", "sont"→"être"
    # Near misses: derived words and different words sharing a stem's first letters stay distinct.
    assert lexical_terms("conservation", "fr") != lexical_terms("conserver", "fr")
    assert lexical_terms("comptable", "fr") != lexical_terms("compte", "fr")
    assert lexical_terms("l'ERP", "fr") == ["erp"] and lexical_terms("lERP", "fr") == ["lerp"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_http_client_mode_against_a_real_chroma_server(tmp_path, corpus):
    """`CAHIER_CHROMA_HOST` makes the same code talk to a `chroma run` server on loopback."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chromadb package ships the `chroma` command"
    port = _free_port()
    server = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        settings = Settings(data_dir=tmp_path / "unused", chroma_host="127.0.0.1", chroma_port=port)
        deadline = time.monotonic() + 60
        while True:
            try:
                index = open_index(settings)
                break
            except RetrievalError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        assert len(index.ingest(corpus).added) == 7
        assert index.search("single sign-on", lang="en", k=1)[0].doc_id == "security"
        assert not (tmp_path / "unused" / "chroma").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unreachable_chroma_server_is_a_clear_error(tmp_path):
    settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=_free_port())
    with pytest.raises(RetrievalError, match="CAHIER_CHROMA_HOST"):
        open_index(settings)


@pytest.fixture(scope="module")
def shipped_index(tmp_path_factory) -> KnowledgeIndex:
    index = open_index(Settings(data_dir=tmp_path_factory.mktemp("shipped")))
    index.ingest(KNOWLEDGE_DIR)
    return index


@pytest.mark.parametrize(
    ("query_file", "lang", "floor"),
    [
        ("retrieval_queries.yaml", "fr", 0.84),
        ("retrieval_queries.yaml", "en", 0.92),
        ("retrieval_heldout.yaml", "fr", 0.87),
        ("retrieval_heldout.yaml", "en", 0.90),
    ],
)
def test_recall_at_3_floor_on_the_evaluation_queries(shipped_index, query_file, lang, floor):
    """One or two queries under the measured figure (bench/retrieval.py: main set 0.857 FR, 0.957 EN; held-out set
    0.909 FR, 0.939 EN): a regression in chunking, tokenising or fusion fails here. These are floors, not the
    issue's target (0.90 in each language)."""
    path = EVAL_DIR / query_file
    queries = [q for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"] if q["lang"] == lang]
    assert len(queries) >= 20
    found = sum(
        1 for q in queries if {s.doc_id for s in shipped_index.search(q["query"], lang=lang, k=3)} & set(q["expected"])
    )
    assert found / len(queries) >= floor
