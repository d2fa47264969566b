"""The API key never leaves memory: not in logs, the database, cassettes, exports, CLI output, pages or errors.

A sentinel key drives full flows against the loopback fake OpenAI server (which can echo the key back in its
error bodies, as careless servers do), with every log record down to DEBUG written to a file. Then every
artifact is searched for the key and its distinctive middle. `assert_no_secret` is the search; any new artifact
(an evaluation report, say) joins by passing its path.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.config import Settings
from assistant.draft import workflow
from assistant.errors import ModelError
from assistant.export import FORMATS, file_bytes, render_export
from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader
from assistant.interview.testing import turn_findings as findings
from assistant.interview.worker import QueuePolicy
from assistant.models.factory import chat_model_from_settings
from assistant.models.port import Message, ModelAuthError
from assistant.models.recorded import RecordingChatModel
from assistant.models.testing import clause_need
from assistant.schemas import Requirement, Speaker, TurnFindings
from assistant.store import Store
from tests.contract.fake_openai import FakeOpenAIServer, completion, error, error_echoing_key, streamed

SENTINEL = "sk-cahier-SENTINEL-0123456789abcdef"
PAGES = "assistant/ui/pages"

Artifact = Path | tuple[str, bytes | str]
"""A file or folder to search, or (name, content) for something held in memory (output, a message, a page)."""


# -- the search -----------------------------------------------------------------------------------------------


def secret_fragments(secret: str) -> list[str]:
    """What must not appear: the secret, the secret without its `sk-` prefix (a scrubber that stops at the
    prefix still leaks the key), and its distinctive middle (a key cut in two, or wrapped, still leaks)."""
    body = secret.removeprefix("sk-")
    middle = body[len(body) // 4 : len(body) * 3 // 4]
    return [secret, body, middle]


def _expanded(name: str, content: bytes) -> Iterator[tuple[str, bytes]]:
    """The content as stored, plus what a reader of it would see: the members of a zip (DOCX) and the inflated
    streams of a PDF, where text is compressed and a plain byte search would find nothing."""
    yield name, content
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(BytesIO(content)) as archive:
            for member in archive.namelist():
                yield from _expanded(f"{name}!{member}", archive.read(member))
    if content.startswith(b"%PDF"):
        for number, stream in enumerate(re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.DOTALL)):
            try:
                yield f"{name}#stream{number}", zlib.decompress(stream)
            except zlib.error:
                continue
        try:  # text drawn with embedded fonts is glyph ids in the streams: only a PDF reader gives it back
            pages = PdfReader(BytesIO(content)).pages
        except PdfReadError:
            return
        yield f"{name}#text", "\n".join(page.extract_text() for page in pages).encode("utf-8")


def _contents(items: Iterable[Artifact]) -> Iterator[tuple[str, bytes]]:
    for item in items:
        if isinstance(item, Path):
            files = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
            assert files, f"nothing to search at {item}: the artifact was never written"
            for path in files:
                yield from _expanded(str(path), path.read_bytes())
        else:
            name, content = item
            yield from _expanded(name, content.encode("utf-8") if isinstance(content, str) else content)


def assert_no_secret(items: Iterable[Artifact], secret: str) -> int:
    """Fail, naming the artifact and the fragment, when any part of `secret` appears in any of `items`.

    Args:
        items: files, folders (searched recursively) and (name, bytes or text) pairs; zips and PDFs are opened.

    Returns:
        How many byte streams were searched (for the report, and so a caller can check the search saw something).
    """
    fragments = [f.encode("utf-8") for f in secret_fragments(secret)]
    fragments += [f.lower() for f in fragments]
    searched, leaks = 0, []
    for name, content in _contents(items):
        searched += 1
        leaks += [f"{fragment.decode()!r} in {name}" for fragment in fragments if fragment in content]
    assert not leaks, "the API key leaked:\n" + "\n".join(leaks)
    return searched


def test_the_search_finds_a_key_in_a_file_a_docx_a_compressed_pdf_and_text(tmp_path: Path):
    """`assert_no_secret` is only worth its passes if it can fail: it finds the key, or its middle alone, in a plain
    file, inside a DOCX's XML, in a compressed PDF stream, in the text of a real PDF export (drawn as glyph ids,
    invisible to a byte search) and in a text, and passes when the key is absent."""
    docx = BytesIO()
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f"<w:t>{SENTINEL}</w:t>")
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nstream\n" + zlib.compress(f"(key {SENTINEL}) Tj".encode()) + b"\nendstream\n"
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    log.write_text(f"Authorization: Bearer {SENTINEL}\n")
    store = Store(f"sqlite:///{tmp_path / 'planted.db'}")
    project = store.create_project("CRM Acme")
    planted = Requirement(id=store.new_id(project.id, Requirement), statement=f"Le CRM doit garder {SENTINEL}")
    store.save_object(project.id, planted, changed_by="cahier")
    exported = file_bytes(render_export(store, project.id, "pdf"))
    store.close()
    middle = secret_fragments(SENTINEL)[2]
    for planted_in in (
        [log.parent],
        [("docx", docx.getvalue())],
        [("compressed stream", pdf)],
        [("pdf export", exported)],
        [("message", f"key …{middle}…")],
    ):
        with pytest.raises(AssertionError, match="the API key leaked"):
            assert_no_secret(planted_in, SENTINEL)
    assert assert_no_secret([("clean", "Bearer [redacted]"), log.parent], SENTINEL.replace("0123", "4567")) == 2


# -- the flows --------------------------------------------------------------------------------------------------


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every log record, DEBUG and up, of the root logger and the HTTP stack (openai, httpx, httpcore), in a file."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    names = ["", "openai", "httpx", "httpcore", "assistant", "langchain", "streamlit"]
    levels = {name: logging.getLogger(name).level for name in names}
    root = logging.getLogger()
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def _settings(tmp_path: Path, server: FakeOpenAIServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        openai_api_key=SENTINEL,
        openai_base_url=server.base_url,
        model="fake-model",
        max_retries=1,
        request_timeout_s=5,
    )


def _extraction(*requirements: str) -> Any:
    return completion(json.dumps(findings(requirements=[(text, "must") for text in requirements])))


def _wording(statement: str) -> Any:
    """What the production reader's wording call gets back from the server for one need clause."""
    return completion(json.dumps(clause_need(statement)))


def _failure(exc: BaseException) -> str:
    """An exception as a log or a crash report would show it: message, type and every chained cause."""
    return "".join(traceback.format_exception(exc))


def test_an_interview_with_failures_usage_and_every_export_leaves_the_key_nowhere(
    tmp_path: Path, server: FakeOpenAIServer, debug_log: Path
):
    """Interview turns through the real adapter (recorded to a cassette), a server error, a server that echoes the
    `Authorization` header in a 400 and in a 401, usage rows, and the six exports: the key reached the server
    on every call, yet appears in no log line, database byte, cassette, export or raised exception."""
    settings = _settings(tmp_path, server)
    assert settings.resolved_provider == "openai_compatible"
    store = Store.from_settings(settings)
    cassette = tmp_path / "cassettes" / "interview.yaml"
    model = RecordingChatModel(chat_model_from_settings(settings), cassette, secrets=[SENTINEL])
    interview = Interview(
        store, model, policy=QueuePolicy(attempts=1), reader=FindingsReader()
    )  # every failure final: calls are counted
    project = store.create_project("CRM Acme", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    interview.start(project.id)

    def answer(text: str) -> str:
        turn_id = interview.handle_turn(project.id, person.id, text).turn_id
        assert turn_id is not None and interview.wait(project.id, turn_id, timeout=30)
        return interview.extraction_status(project.id, turn_id)

    server.push(_extraction("Les commerciaux doivent saisir un compte rendu de visite sur mobile"))
    assert answer("Nous vendons des machines agricoles à 300 concessionnaires.") == "done"
    server.push(error(500, "upstream overloaded"), error(500, "upstream overloaded"))  # one retry, then a failure
    assert answer("Le budget est de 80 k€ HT.") == "failed"
    server.push(error_echoing_key(400))
    assert answer("Les devis doivent partir le jour même.") == "failed"
    server.push(error_echoing_key(401))
    assert answer("Nous avons 40 commerciaux itinérants.") == "failed"
    server.push(_extraction("Le CRM doit valider les budgets"), error_echoing_key(400), error_echoing_key(401))
    assert [o.status for o in interview.reextract(project.id)] == ["done", "failed", "failed"]

    raised: list[Artifact] = []
    messages = [Message("system", "Extract."), Message("user", "Nous sommes Acme.")]
    for status, expected in ((400, ModelError), (401, ModelAuthError), (403, ModelAuthError)):
        server.push(error_echoing_key(status))
        with pytest.raises(expected) as caught:
            model.extract(messages, TurnFindings)
        raised.append((f"extract error {status}", _failure(caught.value)))
        server.push(error_echoing_key(status))
        with pytest.raises(expected) as caught:
            model.reply(messages).text()
        raised.append((f"reply error {status}", _failure(caught.value)))
    server.push(streamed(["Bonjour", " !"]))
    assert model.reply(messages).text() == "Bonjour !"

    assert all(headers["authorization"] == f"Bearer {SENTINEL}" for headers in server.headers)
    assert len(server.headers) == 15  # the key was really sent, and echoed back by 10 of these answers
    usage = store.list_usage(project.id)
    assert [row["ok"] for row in usage] == [True, False, False, False, True, False, False]
    assert "[redacted]" in usage[2]["error"]  # the 400 echoed the key: it was scrubbed, not dropped silently
    workflow.regenerate(store, project.id)
    exports: list[Artifact] = [
        (f"export.{fmt.extension}", file_bytes(render_export(store, project.id, fmt.name))) for fmt in FORMATS
    ]
    assert "compte rendu de visite" in exports[[f.name for f in FORMATS].index("md")][1].decode()
    interview.close()
    store.close()
    log_text = debug_log.read_text(encoding="utf-8")
    assert "HTTP Request: POST" in log_text and "DEBUG" in log_text  # the log did capture the HTTP stack

    searched = assert_no_secret(
        [debug_log, settings.data_dir, cassette, *exports, *raised, ("usage rows", repr(usage))], SENTINEL
    )
    assert searched >= 20
    print(f"\ninterview: {searched} artifacts searched")


def test_cli_commands_with_the_key_in_the_environment_print_and_write_no_key(
    tmp_path: Path, server: FakeOpenAIServer, debug_log: Path, monkeypatch: pytest.MonkeyPatch
):
    """`cahier` run with `OPENAI_API_KEY` set: project commands, `model check` (answered, then refused by a server
    echoing the key in a 400 and a 401), `reextract`, `draft` and every export to a file and to stdout. Output,
    written files, database and log hold no trace of the key."""
    monkeypatch.chdir(tmp_path)  # no `.env` of a developer's checkout is read
    data = tmp_path / "data"
    for name, value in {
        "CAHIER_DATA_DIR": str(data),
        "OPENAI_API_KEY": SENTINEL,
        "OPENAI_BASE_URL": server.base_url,
        "CAHIER_MODEL": "fake-model",
        "CAHIER_MAX_RETRIES": "0",
        "CAHIER_REQUEST_TIMEOUT_S": "5",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    outputs: list[Artifact] = []

    def cahier(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args))
        text = result.output + "\n" + result.stderr  # output interleaves both; stderr alone, to be sure
        outputs.append((f"cahier {' '.join(args)}", text))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            outputs.append((f"exception of cahier {' '.join(args)}", _failure(result.exception)))
        assert result.exit_code == code, text
        return text

    project_id = cahier("projects", "create", "CRM Acme", "--company", "Acme").split("Created project ")[1].split()[0]
    cahier("projects", "list")
    server.push(_wording("Le CRM doit permettre aux commerciaux de saisir un compte rendu de visite sur mobile."))
    assert "valid" in cahier("model", "check")
    server.push(error_echoing_key(400))
    assert "[redacted]" in cahier("model", "check", code=1)
    server.push(error_echoing_key(401))
    assert "OPENAI_API_KEY" in cahier("model", "check", code=1)  # the variable is named, never its value

    store = Store(f"sqlite:///{data / 'cahier.db'}")
    person = store.add_stakeholder(project_id, "Alice", "Directrice commerciale")
    for text in (
        "Il faut que le CRM suive les visites de nos 40 commerciaux itinérants.",
        "Il faut que le CRM envoie les devis le jour même.",
    ):
        store.append_turn(project_id, Speaker.STAKEHOLDER, text, "fr", stakeholder_id=person.id)
    store.close()
    server.push(_wording("Le CRM doit suivre les visites des commerciaux itinérants."), error_echoing_key(400))
    assert "[redacted]" in cahier("reextract", project_id, "--all")
    cahier("draft", project_id)
    written = tmp_path / "exports"
    written.mkdir()
    for fmt in FORMATS:
        cahier("export", project_id, "--format", fmt.name, "--out", str(written / f"spec.{fmt.extension}"))
        if not fmt.binary:
            cahier("export", project_id, "--format", fmt.name)
    assert len(server.headers) == 5 and all(h["authorization"] == f"Bearer {SENTINEL}" for h in server.headers)

    searched = assert_no_secret([debug_log, data, written, *outputs], SENTINEL)
    assert searched >= 20
    print(f"\ncli: {searched} artifacts searched")


def _rendered(at: Any) -> str:
    """Everything the page sends to the browser: every element's message, minus what a password field holds."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "children", {}).values():
            walk(child)
        proto = getattr(node, "proto", None)
        if proto is None:
            return
        if getattr(node, "type", "") == "text_input" and proto.type == proto.PASSWORD:
            proto = type(proto).FromString(proto.SerializeToString())
            proto.ClearField("value")  # typed by the person, masked in the browser, never rendered
        parts.append(str(proto))

    walk(at._tree)
    return "\n".join(parts)


def test_the_settings_page_never_shows_the_key(tmp_path: Path, server: FakeOpenAIServer, debug_log: Path):
    """The settings page of a session whose environment key is the sentinel, its connection test failing on a
    server that echoes the key, the same with the key typed in the page, then a successful test and "use for this
    session": no rendered element, exception or log line shows the key, though the server received it."""
    from assistant.ui.services import Services
    from tests.app.conftest import App, texts

    settings = _settings(tmp_path, server).model_copy(update={"max_retries": 0})
    store = Store.from_settings(settings)
    model = chat_model_from_settings(settings)
    app = App(Services(settings, store, model, Interview(store, model, reader=FindingsReader())), model)  # type: ignore[arg-type]
    project = store.create_project("CRM Acme", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    at = app.open(project=project.id, who=person.id)
    pages = [("chat page", _rendered(at))]
    at.switch_page(f"{PAGES}/settings.py").run()
    assert not at.exception
    pages.append(("settings page", _rendered(at)))

    def shown() -> str:
        return texts(at).replace("\\", "")  # Markdown escapes, as the browser removes them

    def click(label: str) -> None:
        [b for b in at.button if b.label == label][0].click().run()
        assert not at.exception
        pages.append((f"settings page after {label!r}", _rendered(at)))

    at.radio(key="settings.provider").set_value("local").run()  # "test" then tries the session's own model
    server.push(error_echoing_key(400))
    click("Tester la connexion")
    assert "Échec de la connexion" in texts(at) and "Bearer [redacted]" in shown()
    at.radio(key="settings.provider").set_value("openai_compatible").run()
    at.text_input(key="settings.key").input(SENTINEL)
    server.push(error_echoing_key(400))
    click("Tester la connexion")
    assert "Bearer [redacted]" in shown()
    server.push(streamed(["OK"]))
    click("Tester la connexion")
    assert "Connexion réussie" in texts(at)
    click("Utiliser pour cette session")
    assert len(server.headers) == 3 and all(h["authorization"] == f"Bearer {SENTINEL}" for h in server.headers)
    store.close()

    assert "settings.key" in pages[-1][1]  # the walk reaches the password field itself
    searched = assert_no_secret([debug_log, settings.data_dir, *pages], SENTINEL)
    assert searched >= 6
    print(f"\nsettings page: {searched} artifacts searched")
