"""The guidance index: knowledge chunks in Chroma, ingested incrementally and searched by language and section.

The only module that imports chromadb. A local persistent directory is the default; a Chroma server is used
when `CAHIER_CHROMA_HOST` is set. Embeddings come from `assistant.knowledge.embeddings` (offline, multilingual); the
embedding function is registered with Chroma and also passed explicitly every time the collection is opened,
so Chroma never falls back to its default model, which would try to download weights.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import chromadb
import simplemma
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function
from pydantic import BaseModel, ConfigDict

from assistant.config import Settings
from assistant.errors import CahierError
from assistant.knowledge.documents import KNOWLEDGE_DIR, Chunk, chunk_document, load_documents
from assistant.knowledge.embeddings import MODEL_NAME, embed_texts
from assistant.resources import load_yaml_model, package_path
from assistant.schemas import Language, SectionId

log = logging.getLogger(__name__)

COLLECTION = "cahier_knowledge"
_BATCH = 64
_VECTOR_WEIGHT = 0.5
"""Share of the meaning score in the fused one; the keyword score gets the rest (both min-max scaled)."""
_TOP_CHUNKS = 2
"""A document's meaning score is the mean cosine of its best this-many paragraphs."""

STOPWORDS_FILE = package_path("assistant.knowledge", "stopwords.yaml")
_WORD = re.compile(r"aujourd'hui|\w+")
_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'")
"""French elided articles and pronouns ("l'", "d'", "qu'", "jusqu'"), cut off before the word is read."""


class RetrievalError(CahierError):
    """The index could not be opened, written or searched."""


@register_embedding_function
class CahierEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma adapter over `embed_texts`."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
        return [row for row in embed_texts(list(input))]

    @staticmethod
    def name() -> str:
        return f"cahier-{MODEL_NAME}"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CahierEmbeddingFunction:
        return CahierEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@dataclass(frozen=True)
class Snippet:
    """A passage of guidance returned by a search."""

    doc_id: str
    title: str
    heading: str
    text: str
    score: float
    lang: Language
    chunk_id: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


def _section_key(section: SectionId | str) -> str:
    return f"sec_{SectionId(section).value}"


def _metadata(chunk: Chunk) -> dict[str, Any]:
    # Chroma filters on scalar metadata; one boolean per section makes "serves section X" filterable.
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "lang": chunk.lang.value,
        "title": chunk.title,
        "heading": chunk.heading,
        "tags": ", ".join(chunk.tags),
        "hash": chunk.content_hash,
    }
    meta.update({_section_key(section): True for section in chunk.sections})
    return meta


class _Stopwords(BaseModel):
    """`stopwords.yaml`: one list of accent-folded, lower-case words per language."""

    model_config = ConfigDict(extra="forbid")

    fr: frozenset[str]
    en: frozenset[str]


@lru_cache(maxsize=1)
def _stopwords() -> _Stopwords:
    return load_yaml_model(STOPWORDS_FILE, _Stopwords, what="stopword list", error=RetrievalError)


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _french_stem(term: str) -> str:
    """Strip what is left of French inflection once simplemma has lemmatised: plural, feminine, "-er", "-é".

    The lemmatiser leaves words it does not know as they are ("prospects") and keeps some forms apart that a
    reader would not ("commerciale"/"commercial", "conservées" → "conservé"/"conserver"). This is the minimal
    French stemmer of Savoy (as in Lucene's `FrenchMinimalStemmer`), run on the folded lemma; words of under six
    letters are left alone, and derived words keep their suffix ("conservation" does not meet "conserver").
    """
    if len(term) < 6:
        return term
    if term.endswith("x"):
        return term[:-3] + "al" if term.endswith("aux") else term[:-1]
    for ending in "sre":
        if term.endswith(ending):
            term = term[:-1]
    return term[:-1] if term[-1] == term[-2] else term


@lru_cache(maxsize=65_536)
def _term(word: str, code: str) -> str | None:
    """The index term for one lower-case word, or None for a word that says nothing about the subject."""
    stopwords = getattr(_stopwords(), code)
    if code == "en":
        term = _fold(simplemma.lemmatize(word, lang=code))
        return None if term in stopwords else term
    if _fold(word) in stopwords:
        return None
    lemma = _fold(simplemma.lemmatize(word, lang=code))
    # Lemmas are checked too: "les" becomes "le", "une" "un", "sont" "être", none of which names a subject.
    if len(lemma) < 3 or lemma in stopwords:
        return None
    return _french_stem(lemma)


def lexical_terms(text: str, lang: Language | str) -> list[str]:
    """Lemmatised, accent-folded content words: "Équipes" and "equipe" meet on one term.

    French is read with its elisions ("l'équipe" is "équipe"), its stopword list checked on both the word and
    its lemma, and a minimal stemmer after the lemma ("commerciale" meets "commerciaux"). English keeps the
    plain lemma: the same treatment measured no better there.
    """
    code = Language(lang).value
    text = text.lower().replace("\u2019", "'")
    if code == "fr":
        text = _ELISION.sub(" ", text)
    terms = []
    for word in _WORD.findall(text):
        if len(word) < 3 or word.isdigit():
            continue
        term = _term(word, code)
        if term is not None:
            terms.append(term)
    return terms


class _LexicalIndex:
    """BM25 over whole documents (one entry per language and document id), and the stored chunks it was built from.

    Vectors miss answers whose key word is rare but decisive ("Access", "PV", "newsletter"). Scored per document
    rather than per passage, BM25 sees every word a document spends on its subject, and the title (counted
    twice) and the front-matter tags name that subject outright. Alone, it puts an expected document in the
    first three (recall@3) for 84% (EN) / 79% (FR) of the evaluation queries, against 79% / 76% when it scored
    each heading's text.
    """

    K1 = 1.2
    B = 0.75

    def __init__(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]]) -> None:
        self.rows: dict[str, tuple[str, dict[str, Any]]] = {}
        self._chunk_counts: Counter[tuple[str, str | None]] = Counter()
        documents: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
        for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True):
            self.rows[chunk_id] = (text, meta)
            lang = meta["lang"]
            self._chunk_counts.update([(lang, None)] + [(lang, key) for key in meta if key.startswith("sec_")])
            key = (lang, meta["doc_id"])
            if key not in documents:
                about = lexical_terms(meta["title"], lang) * 2 + lexical_terms(meta.get("tags", ""), lang)
                documents[key] = (meta, about)
            documents[key][1].extend(lexical_terms(f"{meta.get('heading', '')} {text}", lang))
        self._by_lang: dict[str, list[tuple[str, dict[str, Any], Counter[str], int]]] = {}
        document_frequency: dict[str, Counter[str]] = {}
        for (lang, doc_id), (meta, terms) in sorted(documents.items()):
            self._by_lang.setdefault(lang, []).append((doc_id, meta, Counter(terms), len(terms)))
            document_frequency.setdefault(lang, Counter()).update(set(terms))
        self._idf = {
            lang: {
                term: math.log(1 + (len(self._by_lang[lang]) - df + 0.5) / (df + 0.5)) for term, df in counts.items()
            }
            for lang, counts in document_frequency.items()
        }
        self._avg_len = {lang: sum(n for *_, n in docs) / len(docs) for lang, docs in self._by_lang.items()}

    @property
    def languages(self) -> list[str]:
        return sorted(self._by_lang)

    def chunk_count(self, lang: str, section_key: str | None) -> int:
        """How many stored chunks of `lang` serve the section (any section when `section_key` is None)."""
        return self._chunk_counts[(lang, section_key)]

    def scores(self, query: str, lang: str, allowed: Callable[[dict[str, Any]], bool]) -> dict[str, float]:
        """BM25 score per document id of `lang` whose metadata passes `allowed`; documents scoring 0 are left out."""
        terms = lexical_terms(query, lang)
        idf = self._idf.get(lang, {})
        result: dict[str, float] = {}
        for doc_id, meta, counts, length in self._by_lang.get(lang, []):
            if not allowed(meta):
                continue
            score = 0.0
            for term in terms:
                tf = counts.get(term, 0)
                if tf:
                    norm = tf + self.K1 * (1 - self.B + self.B * length / self._avg_len[lang])
                    score += idf[term] * tf * (self.K1 + 1) / norm
            if score > 0:
                result[doc_id] = score
        return result


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _min_max(scores: dict[Any, float]) -> dict[Any, float]:
    """Scores rescaled to [0, 1], so that cosines and BM25 scores can be added."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    return {key: (value - low) / (high - low + 1e-9) for key, value in scores.items()}


class KnowledgeIndex:
    """Ingest and search the knowledge chunks: one paragraph each, ranked by document.

    A search scores every paragraph of the allowed language and section by cosine, and gives each document the
    mean of its two best: one paragraph that happens to sound like the question counts less than a document
    that keeps talking about it. Vectors alone then reach a recall@3 of 89% (EN) / 76% (FR) on the evaluation
    queries (79% / 70% with the best paragraph only). Adding the document's BM25 score, both sides min-max
    scaled and weighted equally, gives 96% / 89%, where the former reciprocal-rank fusion of per-heading chunks
    gave 89% / 81%. This configuration was picked on every other query of `tests/eval/retrieval_queries.yaml`
    and held on the rest (recall@3 91% / 89% on the first half, 100% / 89% on the second). With the French
    tokeniser of `lexical_terms` it measures 96% / 86% there (recall@1 73% / 70%) and 94% / 91% on
    `tests/eval/retrieval_heldout.yaml`, written from the documents' front matter only; bench/retrieval.py
    measures both sets.

    Args:
        client: a Chroma client (use `open_index` to build one from settings).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._embedding = CahierEmbeddingFunction()
        self._lock = threading.Lock()
        self._lexical: _LexicalIndex | None = None
        try:
            self._collection = client.get_or_create_collection(
                COLLECTION, embedding_function=self._embedding, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:  # chromadb raises many unrelated types (connection, value, internal)
            raise RetrievalError(f"cannot open the knowledge index: {exc}") from exc

    def count(self) -> int:
        return self._collection.count()

    def _stored_hashes(self) -> dict[str, str]:
        stored = self._collection.get(include=["metadatas"])
        return {cid: (meta or {}).get("hash", "") for cid, meta in zip(stored["ids"], stored["metadatas"], strict=True)}

    def ingest(
        self,
        root: Path = KNOWLEDGE_DIR,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Bring the index in line with the documents under `root`, embedding only what changed.

        Every document is parsed and checked first; if one is broken, `KnowledgeError` is raised before the
        index is touched, so the previous index stays usable.

        Args:
            progress: called with (chunks embedded so far, chunks to embed).
        """
        chunks = [chunk for doc in load_documents(root) for chunk in chunk_document(doc)]
        with self._lock:
            stored = self._stored_hashes()
            wanted = {chunk.id: chunk for chunk in chunks}
            report = IngestReport()
            to_write: list[Chunk] = []
            for chunk in chunks:
                previous = stored.get(chunk.id)
                if previous == chunk.content_hash:
                    report.unchanged += 1
                    continue
                (report.updated if previous is not None else report.added).append(chunk.id)
                to_write.append(chunk)
            report.deleted = sorted(set(stored) - set(wanted))
            if progress:
                progress(0, len(to_write))
            for start in range(0, len(to_write), _BATCH):
                batch = to_write[start : start + _BATCH]
                vectors = embed_texts([chunk.embedded_text for chunk in batch])
                self._collection.upsert(
                    ids=[chunk.id for chunk in batch],
                    documents=[chunk.text for chunk in batch],
                    metadatas=[_metadata(chunk) for chunk in batch],
                    embeddings=[row for row in vectors],
                )
                if progress:
                    progress(min(start + _BATCH, len(to_write)), len(to_write))
            if report.deleted:
                self._collection.delete(ids=report.deleted)
            if report.changed:
                self._lexical = None
        log.info(
            "knowledge ingest: %d added, %d updated, %d deleted, %d unchanged",
            len(report.added),
            len(report.updated),
            len(report.deleted),
            report.unchanged,
        )
        return report

    def search(
        self,
        query: str,
        *,
        lang: Language | str | None = None,
        section: SectionId | str | None = None,
        k: int = 3,
    ) -> list[Snippet]:
        """The `k` best documents for `query`, best first, each shown by its paragraph closest in meaning.

        A document is one language's version: without `lang`, the French and English versions of a document can
        both be returned. An empty query returns nothing. `Snippet.score` is the cosine similarity of the
        paragraph shown (1 is identical); the ranking also weighs keywords, so scores need not decrease.
        """
        if not query or not query.strip() or k <= 0:
            return []
        lang_code = Language(lang).value if lang is not None else None
        section_key = _section_key(section) if section is not None else None

        lexical = self._lexical_index()
        langs = [lang_code] if lang_code else lexical.languages
        candidates = sum(lexical.chunk_count(code, section_key) for code in langs)
        if not candidates:
            return []
        filters: list[dict[str, Any]] = []
        if lang_code is not None:
            filters.append({"lang": lang_code})
        if section_key is not None:
            filters.append({section_key: True})
        where: dict[str, Any] | None = {"$and": filters} if len(filters) > 1 else (filters[0] if filters else None)
        vector = embed_texts([query.strip()])[0]
        # Every allowed paragraph is scored (a few hundred at most): a top-N cut would leave some documents
        # with one paragraph scored, or none, and make their meaning score depend on N.
        result = self._collection.query(
            query_embeddings=[vector], n_results=candidates, where=where, include=["distances"]
        )
        cosines: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True):
            if chunk_id in lexical.rows:  # else written by another process since the keyword index was built
                meta = lexical.rows[chunk_id][1]
                cosines.setdefault((meta["lang"], meta["doc_id"]), []).append((1.0 - float(distance), chunk_id))
        for scored in cosines.values():
            scored.sort(reverse=True)
        meaning = _min_max({doc: _mean([c for c, _ in scored[:_TOP_CHUNKS]]) for doc, scored in cosines.items()})

        def allowed(meta: dict[str, Any]) -> bool:
            return section_key is None or bool(meta.get(section_key))

        keyword = _min_max(
            {(code, doc_id): s for code in langs for doc_id, s in lexical.scores(query, code, allowed).items()}
        )
        fused = {doc: _VECTOR_WEIGHT * meaning[doc] + (1 - _VECTOR_WEIGHT) * keyword.get(doc, 0.0) for doc in meaning}
        snippets = []
        for doc in sorted(fused, key=lambda doc: (-fused[doc], doc))[:k]:
            cosine, chunk_id = cosines[doc][0]
            text, meta = lexical.rows[chunk_id]
            snippets.append(
                Snippet(
                    doc_id=meta["doc_id"],
                    title=meta["title"],
                    heading=meta.get("heading", ""),
                    text=text,
                    score=round(cosine, 4),
                    lang=Language(meta["lang"]),
                    chunk_id=chunk_id,
                )
            )
        return snippets

    def _lexical_index(self) -> _LexicalIndex:
        with self._lock:
            if self._lexical is None or len(self._lexical.rows) != self._collection.count():
                stored = self._collection.get(include=["documents", "metadatas"])
                self._lexical = _LexicalIndex(stored["ids"], stored["documents"], stored["metadatas"])
            return self._lexical


def chroma_client(settings: Settings) -> Any:
    """A Chroma client as configured: the server at `CAHIER_CHROMA_HOST`, else the local directory."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        path = settings.resolved_chroma_path
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # connection errors, bad paths, incompatible on-disk versions
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port} (`CAHIER_CHROMA_HOST`)"
            if settings.chroma_host
            else f"the directory {str(settings.resolved_chroma_path)!r} (`CAHIER_CHROMA_PATH`)"
        )
        raise RetrievalError(f"cannot open {where}: {exc}") from exc


def open_index(settings: Settings) -> KnowledgeIndex:
    return KnowledgeIndex(chroma_client(settings))
