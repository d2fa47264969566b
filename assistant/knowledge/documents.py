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
from assistant.resources import shared_data_path
from assistant.schemas import Language, SectionId

MAX_CHUNK_CHARS = 1_500
"""A safeguard: a paragraph longer than this is cut at line, then sentence, boundaries."""

MIN_PARAGRAPH_CHARS = 80
"""A shorter block (a lead-in line, a bold label) is merged into the next one: alone it says too little."""

KNOWLEDGE_DIR = shared_data_path("knowledge")


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
    """One retrievable passage: a paragraph of a document, with its title and heading."""

    id: str
    doc_id: str
    lang: Language
    title: str
    heading: str
    text: str
    sections: tuple[SectionId, ...]
    tags: tuple[str, ...]

    @property
    def embedded_text(self) -> str:
        """What gets embedded: the title and heading give a short passage its topic."""
        return f"{self.title} — {self.heading}\n{self.text}" if self.heading else f"{self.title}\n{self.text}"

    @property
    def content_hash(self) -> str:
        # Tags feed the keyword index, so a tag change must rewrite the stored chunk too.
        payload = "\x1f".join([self.embedded_text, ",".join(self.sections), ",".join(self.tags)])
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


def load_documents(root: Path = KNOWLEDGE_DIR) -> list[Document]:
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


def _paragraphs(text: str, max_chars: int) -> list[str]:
    """Blocks separated by blank lines (a list stays one block), short ones merged into the next one."""
    blocks: list[str] = []
    pending = ""
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if pending:
            block = f"{pending}\n\n{block}"
        if len(block) < MIN_PARAGRAPH_CHARS:
            pending = block
            continue
        pending = ""
        blocks.append(block)
    if pending:  # a short closing block joins the paragraph before it
        if blocks:
            blocks[-1] = f"{blocks[-1]}\n\n{pending}"
        else:
            blocks.append(pending)
    return [piece for block in blocks for piece in _cut(block, max_chars)]


def _cut(block: str, limit: int) -> list[str]:
    """A block of at most `limit` characters stays whole; a longer one is cut between lines, else sentences."""
    if len(block) <= limit:
        return [block]
    for separator, boundary in (("\n", r"\n"), (" ", r"(?<=[.!?;])\s+")):
        units = re.split(boundary, block)
        if len(units) > 1:
            return [piece for packed in _pack(units, separator, limit) for piece in _cut(packed, limit)]
    return [block]  # one unbroken sentence: nowhere sensible to cut


def _pack(units: list[str], separator: str, limit: int) -> list[str]:
    """Consecutive units joined into pieces of at most `limit` characters (a longer unit stays alone)."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}{separator}{unit}" if current else unit
        if current and len(candidate) > limit:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    pieces.append(current)
    return pieces


def chunk_document(doc: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Cut a document into one chunk per paragraph under each heading.

    Ids are stable and readable: language, document id and heading path for a heading's first paragraph, then
    `-2`, `-3`… for the following ones.
    """
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
        for index, piece in enumerate(_paragraphs(text, max_chars)):
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
                    tags=tuple(doc.meta.tags),
                )
            )
    return chunks
