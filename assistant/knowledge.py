"""Read the best-practice documents in `knowledge/` and cut them into retrievable chunks.

Kept apart from `retrieval` so that parsing and chunking (pure, fast, fully testable) never need Chroma, and so
that every document is checked before the index is touched: a broken file fails the whole ingest and leaves
the previous index as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import CahierError
from assistant.schemas import Language, SectionId

MAX_CHUNK_CHARS = 1_500
"""A heading's text longer than this is split at paragraph boundaries, so one chunk stays one idea."""

REPO_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


class KnowledgeError(CahierError):
    """A knowledge document cannot be ingested.

    Attributes:
        path: the offending file.
        reason: what is wrong with it.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class FrontMatter(BaseModel):
    """The YAML header every knowledge document starts with."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3)
    lang: Language
    sections: list[SectionId] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_duplicate_sections(self) -> FrontMatter:
        if len(set(self.sections)) != len(self.sections):
            raise ValueError("`sections` lists the same section twice")
        return self


@dataclass(frozen=True)
class Document:
    meta: FrontMatter
    body: str
    path: Path


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage: a heading of a document with its text."""

    id: str
    doc_id: str
    lang: Language
    title: str
    heading: str
    text: str
    sections: tuple[SectionId, ...]

    @property
    def embedded_text(self) -> str:
        """What gets embedded: the title and heading give a short passage its topic."""
        return f"{self.title} — {self.heading}\n{self.text}" if self.heading else f"{self.title}\n{self.text}"

    @property
    def content_hash(self) -> str:
        payload = "\x1f".join([self.embedded_text, ",".join(self.sections)])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def parse_document(path: Path) -> Document:
    """Read one document and check its front matter.

    Raises:
        KnowledgeError: naming the file, when it is unreadable, has no or invalid front matter, or no body.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, f"cannot be read as UTF-8 text ({exc})") from exc
    match = _FRONT_MATTER.match(text)
    if not match:
        raise KnowledgeError(path, "has no front matter (a `---` block with id, title, lang, sections, tags)")
    try:
        raw = yaml.safe_load(match.group(1))
        meta = FrontMatter.model_validate(raw)
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, f"front matter is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "front matter"
        raise KnowledgeError(path, f"front matter field `{field}`: {first['msg']}") from exc
    if meta.id != path.stem:
        raise KnowledgeError(path, f"front matter id {meta.id!r} differs from the file name {path.stem!r}")
    if path.parent.name in {lang.value for lang in Language} and meta.lang.value != path.parent.name:
        raise KnowledgeError(path, f"lang {meta.lang.value!r} does not match its folder {path.parent.name!r}")
    body = text[match.end() :].strip()
    if len(body) < 20:
        raise KnowledgeError(path, "has front matter but no text")
    return Document(meta=meta, body=body, path=path)


def load_documents(root: Path = REPO_KNOWLEDGE_DIR) -> list[Document]:
    """Every document under `root` (recursively), checked; ids must be unique per language."""
    if not root.is_dir():
        raise KnowledgeError(root, "the knowledge folder does not exist")
    documents = [parse_document(path) for path in sorted(root.rglob("*.md"))]
    seen: dict[tuple[str, Language], Path] = {}
    for doc in documents:
        key = (doc.meta.id, doc.meta.lang)
        if key in seen:
            raise KnowledgeError(doc.path, f"id {doc.meta.id!r} is also used by {seen[key]}")
        seen[key] = doc.path
    return documents


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "part"


def _split_long(text: str, limit: int) -> list[str]:
    """Split at blank lines into pieces of at most `limit` characters (a longer paragraph stays whole)."""
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if current and len(candidate) > limit:
            pieces.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def chunk_document(doc: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Cut a document at its headings; ids are stable (language, document id and heading path)."""
    title = doc.meta.title
    parts: list[tuple[list[str], str]] = []
    path: list[str] = []
    position = 0
    level_path: dict[int, str] = {}
    pending_heading: list[str] = []
    for match in _HEADING.finditer(doc.body):
        parts.append((pending_heading, doc.body[position : match.start()]))
        level = len(match.group(1))
        level_path = {lvl: name for lvl, name in level_path.items() if lvl < level}
        level_path[level] = match.group(2).strip()
        path = [level_path[lvl] for lvl in sorted(level_path) if lvl > 1]
        pending_heading = path
        position = match.end()
    parts.append((pending_heading, doc.body[position:]))

    chunks: list[Chunk] = []
    used: set[str] = set()
    for heading_path, raw in parts:
        text = raw.strip()
        if not text:
            continue
        heading = " / ".join(heading_path)
        base = f"{doc.meta.lang.value}/{doc.meta.id}#{_slug(heading) if heading else 'intro'}"
        for index, piece in enumerate(_split_long(text, max_chars)):
            chunk_id = base if index == 0 else f"{base}-{index + 1}"
            while chunk_id in used:  # two headings with the same words
                chunk_id += "+"
            used.add(chunk_id)
            chunks.append(
                Chunk(
                    id=chunk_id,
                    doc_id=doc.meta.id,
                    lang=doc.meta.lang,
                    title=title,
                    heading=heading,
                    text=piece,
                    sections=tuple(doc.meta.sections),
                )
            )
    return chunks
