"""The `cahier` command line: projects, exports and the maintenance commands, with readable output."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from assistant.config import Settings, load_settings
from assistant.errors import AccessDeniedError, CahierError
from assistant.export import BY_NAME, FORMATS, file_bytes, render_export
from assistant.schemas import Language, Requirement, Turn
from assistant.store import Store

console = Console()
err_console = Console(stderr=True)


class _CahierGroup(TyperGroup):
    """Shows Cahier's own errors as one readable line (exit code 1) instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own `Context` base class is private (`typer._click`)
        try:
            return super().invoke(ctx)
        except CahierError as exc:
            # The message is text, not markup: rich would swallow a `[redacted]` or any other bracketed word.
            message = escape(str(exc))
            err_console.print(f"[bold red]Error:[/bold red] {message}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_CahierGroup,
    help="Cahier: turn stakeholder interviews into a reviewed CRM specification.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
projects_app = typer.Typer(
    help="Create, list, protect and delete projects, and make stakeholder links.", no_args_is_help=True
)
app.add_typer(projects_app, name="projects")
model_app = typer.Typer(help="Inspect the language model Cahier uses.", no_args_is_help=True)
app.add_typer(model_app, name="model")

SAMPLE_ANSWER = (
    "Notre budget est de 80 k€ HT pour la première année et on doit être en production avant la rentrée 2027. "
    "Les commerciaux doivent pouvoir saisir un compte rendu de visite depuis leur téléphone."
)


ExportFormat = StrEnum("ExportFormat", {fmt.name.upper(): fmt.name for fmt in FORMATS})  # type: ignore[misc]
"""The `--format` choices: every format of the shared registry."""
_JSON = ExportFormat("json")


def _settings() -> Settings:
    env_file = Path(".env")
    return load_settings(env_file=env_file if env_file.is_file() else None)


def _store() -> Store:
    return Store.from_settings(_settings())


ACCESS_CODE_VARIABLE = "CAHIER_ACCESS_CODE"

CodeOption = Annotated[
    str | None,
    typer.Option(
        "--code",
        envvar=ACCESS_CODE_VARIABLE,
        help="The project's access code, when it has one.",
        show_default=False,
    ),
]
"""`--code` on every command that reads or changes a project; the variable keeps the code off the shell history."""


def _unlock(store: Store, project_id: str, code: str | None) -> None:
    """Go on only for an unprotected project or with its right code (one readable error line otherwise)."""
    from assistant import access

    try:
        access.check_code(store, project_id, code)
    except AccessDeniedError as exc:
        if exc.reason != "code_required":
            raise
        raise AccessDeniedError(
            project_id, exc.reason, f"{exc}; give it with `--code` or the `{ACCESS_CODE_VARIABLE}` environment variable"
        ) from None


@projects_app.command("list")
def projects_list() -> None:
    """List the projects in the database (a protected project shows its id and date only)."""
    store = _store()
    rows = store.list_projects()
    if not rows:
        console.print("No project yet. Create one with [bold]cahier projects create NAME[/bold].")
        return
    protected = store.protected_project_ids()
    table = Table("id", "name", "language", "company", "turns", "requirements", "created")
    for project in rows:
        if project.id in protected:
            created = project.created_at.strftime("%Y-%m-%d %H:%M")
            table.add_row(project.id, "[dim](protected)[/dim]", "-", "-", "-", "-", created)
            continue
        table.add_row(
            project.id,
            project.name,
            project.language.value,
            project.company,
            str(len(store.list_turns(project.id))),
            str(len(store.list_objects(project.id, Requirement))),
            project.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(help="Project name, e.g. 'CRM Acme 2027'.")],
    language: Annotated[Language, typer.Option("--language", "-l", help="Language of the interview.")] = Language.FR,
    company: Annotated[str, typer.Option(help="Company name.")] = "",
) -> None:
    """Create a project and print its id."""
    project = _store().create_project(name, language=language, company=company)
    console.print(f"Created project [bold]{project.id}[/bold] ({project.name}, {project.language.value}).")


@projects_app.command("delete")
def projects_delete(
    project_id: Annotated[str, typer.Argument(help="The project's id (see `cahier projects list`).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    code: CodeOption = None,
) -> None:
    """Delete a project and everything recorded for it (rows of every table, access code and links included)."""
    store = _store()
    _unlock(store, project_id, code)
    project = store.get_project(project_id)
    turns: list[Turn] = store.list_turns(project_id)
    if not yes:
        typer.confirm(
            f"Delete project {project.name!r} ({project_id}) with its {len(turns)} turn(s)? This cannot be undone",
            abort=True,
        )
    store.delete_project(project_id)
    console.print(f"Deleted project [bold]{project_id}[/bold].")


@projects_app.command("protect")
def projects_protect(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    code: CodeOption = None,
) -> None:
    """Set or change the project's access code (asked twice, never echoed; `--code` is the current one)."""
    from assistant import access

    store = _store()
    _unlock(store, project_id, code)
    new_code = typer.prompt(
        f"New access code ({access.MIN_CODE_LENGTH} characters or more)", hide_input=True, confirmation_prompt=True
    )
    access.set_code(store, project_id, new_code, current_code=code)
    console.print(f"Project [bold]{project_id}[/bold] is protected: its commands and pages now ask for the code.")


@projects_app.command("unprotect")
def projects_unprotect(
    project_id: Annotated[str, typer.Argument(help="The project's id.")], code: CodeOption = None
) -> None:
    """Remove the project's access code; its stakeholder links stop working too."""
    from assistant import access

    store = _store()
    _unlock(store, project_id, code)
    access.remove_code(store, project_id, code)
    console.print(f"Project [bold]{project_id}[/bold] is no longer protected.")


@projects_app.command("link")
def projects_link(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    code: CodeOption = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every link of the project instead.")] = False,
) -> None:
    """Make a stakeholder link: whoever opens it can read the interview and answer, nothing else."""
    from assistant import access

    store = _store()
    _unlock(store, project_id, code)
    if revoke:
        count = access.revoke_links(store, project_id, code)
        console.print(f"Revoked {count} link(s) of project [bold]{project_id}[/bold].")
        return
    token = access.create_link(store, project_id, code)
    console.print("Stakeholder link (shown once; add it to the app's address, e.g. http://localhost:8501/):")
    console.print(f"?project={project_id}&link={token}", highlight=False, markup=False, soft_wrap=True)


@app.command("export")
def export(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = _JSON,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write to this file (docx, pdf and xlsx default to PROJECT.<format>, summary to PROJECT-summary.pdf).",
        ),
    ] = None,
    code: CodeOption = None,
) -> None:
    """Export a project: the specification (md, docx, pdf), its one-page summary (summary, a PDF), the vendor
    response grid (xlsx), its requirements (reqif, csv for Jira) or all (json).

    A JSON export never carries the access code's hash or the stakeholder links: imported, the project is open.
    """
    fmt = BY_NAME[format.value]
    store = _store()
    _unlock(store, project_id, code)
    content = file_bytes(render_export(store, project_id, fmt.name))
    if out is None and fmt.binary:
        # Binary formats never go to a terminal: without `--out` they land in a file named after the project.
        out = Path(fmt.file_name(project_id))
    if out is None:
        sys.stdout.write(content.decode("utf-8"))
        return
    out.write_bytes(content)  # bytes as-is: the CSV keeps its CRLF row ends
    err_console.print(f"Wrote {fmt.name} export of {project_id} to {out}.")


@app.command("draft")
def draft(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    author: Annotated[str, typer.Option(help="Name recorded on the versions this writes.")] = "cahier",
    code: CodeOption = None,
) -> None:
    """Regenerate the draft from the interview's objects and show each section's review state.

    Sections nobody edited follow the objects; edited or approved ones are never overwritten: a change becomes a
    proposal for the reviewer ("changes available").
    """
    from assistant.draft.template import template_for
    from assistant.draft.workflow import regenerate, review

    store = _store()
    _unlock(store, project_id, code)
    outcomes = regenerate(store, project_id, author=author)
    template = template_for(store.get_project(project_id).language)
    table = Table("section", "state", "version", "this run", "review")
    for section, view in review(store, project_id).items():
        table.add_row(
            template.numbered_title(section),
            template.label(view.state),
            str(view.version),
            outcomes[section].value,
            "[yellow]changes available[/yellow]" if view.changes_available else "",
        )
    console.print(table)


@app.command("ingest")
def ingest(
    knowledge_dir: Annotated[
        Path | None, typer.Option("--knowledge", help="Folder of knowledge documents (default: the shipped ones).")
    ] = None,
) -> None:
    """Build or refresh the guidance index; only changed passages are embedded again."""
    from rich.progress import Progress

    from assistant.knowledge.documents import KNOWLEDGE_DIR
    from assistant.knowledge.search import open_index

    index = open_index(_settings())
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("Embedding passages", total=None)
        report = index.ingest(
            knowledge_dir or KNOWLEDGE_DIR,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Index ready: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted, {report.unchanged} unchanged ({index.count()} passages)."
    )


@app.command("app")
def run_app(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "localhost",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
) -> None:
    """Start the web app (the same as `streamlit run app.py` in a checkout, and it works from an installed wheel)."""
    import subprocess
    import sys

    from assistant.resources import shared_data_path

    command = [sys.executable, "-m", "streamlit", "run", str(shared_data_path("app.py"))]
    command += ["--server.address", host, "--server.port", str(port), "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(command))


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    lang: Annotated[Language | None, typer.Option("--lang", "-l")] = None,
    section: Annotated[str | None, typer.Option(help="Only guidance for this section id.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20)] = 3,
) -> None:
    """Search the guidance index (to check what the interview will retrieve)."""
    from assistant.knowledge.search import open_index

    table = Table("score", "document", "heading", "text")
    for snippet in open_index(_settings()).search(query, lang=lang, section=section, k=k):
        table.add_row(f"{snippet.score:.2f}", snippet.doc_id, snippet.heading, snippet.text[:160])
    console.print(table)


@app.command("reextract")
def reextract(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    all_turns: Annotated[bool, typer.Option("--all", help="Redo every answer, not only the failed ones.")] = False,
    code: CodeOption = None,
) -> None:
    """Run extraction again for the answers whose extraction failed (e.g. after the model was down).

    The answers go through the same queue as the app's: running workers may take some of them; this waits.
    """
    from assistant.interview.service import Interview
    from assistant.interview.worker import QueuePolicy
    from assistant.models.factory import chat_model_from_settings

    settings = _settings()
    store = Store.from_settings(settings)
    _unlock(store, project_id, code)
    interview = Interview(store, chat_model_from_settings(settings), policy=QueuePolicy.from_settings(settings))
    with console.status("Extracting…"):
        outcomes = interview.reextract(project_id, only_failed=not all_turns)
    table = Table("turn", "status", "created", "updated", "conflicts / error")
    for outcome in outcomes:
        table.add_row(
            str(outcome.turn_id),
            outcome.status,
            ", ".join(outcome.created),
            ", ".join(outcome.updated),
            escape(outcome.error) or ", ".join(outcome.conflicts),  # an error is text: keep its `[redacted]`
        )
    console.print(table if outcomes else "Nothing to redo: every answer was extracted.")


@app.command("worker")
def worker(
    workers: Annotated[
        int | None, typer.Option("--workers", "-n", min=1, max=16, help="Threads (default CAHIER_EXTRACTION_WORKERS).")
    ] = None,
) -> None:
    """Extract queued answers until stopped (Ctrl-C or SIGTERM), beside or instead of the app's own workers.

    Any number of these and of app processes can share one database (PostgreSQL for several machines): each answer
    is extracted once, in turn order per project. Answers queued while no worker ran are picked up at start.
    """
    import signal
    import threading

    from assistant.interview.extraction import Extractor
    from assistant.interview.worker import ModelRouter, QueuePolicy, WorkerPool
    from assistant.models.factory import chat_model_from_settings
    from assistant.store.engine import redact

    settings = _settings()
    store = Store.from_settings(settings)
    policy = QueuePolicy.from_settings(settings)
    size = workers or max(1, policy.workers)
    pool = WorkerPool(Extractor(store), ModelRouter(chat_model_from_settings(settings)), policy)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    pool.start(size)
    noun = "worker" if size == 1 else "workers"
    console.print(f"Extracting with {size} {noun} on {redact(store.url)}; Ctrl-C stops after the answers in hand.")
    stop.wait()
    pool.stop()
    store.close()


@model_app.command("check")
def model_check() -> None:
    """Show the active model and run one sample French extraction, with its validity and latency."""
    import time

    from assistant.interview.reading import read_answer
    from assistant.models.factory import chat_model_from_settings
    from assistant.schemas import Language, SectionId, SlotKey, Speaker, Turn

    settings = _settings()
    provider = settings.resolved_provider
    console.print(f"provider: [bold]{provider}[/bold]")
    started = time.perf_counter()
    model = chat_model_from_settings(settings)
    console.print(f"model:    {model.name}")
    console.print(f"base URL: {getattr(model, 'base_url', '-')}")
    console.print(f"ready in  {time.perf_counter() - started:.1f} s")
    turn = Turn(
        id=1,
        project_id="check",
        speaker=Speaker.STAKEHOLDER,
        stakeholder_id="check",
        text=SAMPLE_ANSWER,
        language=Language.FR,
    )
    with console.status("Reading one sample answer…"):
        reading = read_answer(turn, SlotKey(SectionId.NEEDS, "must_haves"), model)
    findings = reading.findings
    for usage in reading.usage:
        console.print(
            f"[green]valid[/green] answer in {usage.latency_ms / 1000:.1f} s ({usage.attempts} attempt(s), "
            f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens)"
        )
    table = Table("kind", "text")
    for requirement in findings.requirements:
        table.add_row(f"requirement ({requirement.moscow.value})", requirement.statement)
    for constraint in findings.constraints:
        table.add_row(f"constraint ({constraint.kind.value})", constraint.statement)
    for fact in findings.facts:
        table.add_row(f"fact ({fact.section.value})", fact.text)
    console.print(table)


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A file written by `cahier export --format json`.")]) -> None:
    """Restore a project from a JSON export (refused, with nothing changed, if the file is not valid)."""
    from assistant.export.json import import_project

    project_id = import_project(_store(), path)
    console.print(f"Imported project [bold]{project_id}[/bold] from {path}.")
    console.print("It has no access code (exports never carry one): set one with `cahier projects protect`.")


DEFAULT_TRANSCRIPTS = Path("tests/eval/transcripts")


@app.command("eval")
def eval_(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Transcript files or folders (default: tests/eval/transcripts, or its recorded ones)."),
    ] = None,
    replay: Annotated[bool, typer.Option("--replay", help="Replay the recorded model calls; no model runs.")] = False,
    record: Annotated[
        bool, typer.Option("--record", help="Run the model live and save its calls beside each transcript.")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name to send to the configured server (live runs).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write report.json, report.md and plots in this folder.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Fail (exit 1) if F1 or trap pass rate drop below this file.")
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Save this run's gated figures as the new baseline.")
    ] = None,
) -> None:
    """Replay recorded interviews through the pipeline and score the extraction against their gold."""
    import json

    from rich.progress import Progress

    from assistant.errors import InputError
    from assistant.evaluation.report import baseline_of, check_baseline, summarise, write_report
    from assistant.evaluation.runner import evaluate
    from assistant.evaluation.transcripts import find_transcripts, load_transcript, recording_path
    from assistant.models.port import ChatModel
    from assistant.models.recorded import RecordingChatModel, ReplayChatModel

    if replay and (record or model):
        raise InputError("--replay", "`--replay` uses the recorded calls; it cannot be combined with a live model")
    files = find_transcripts(paths or [DEFAULT_TRANSCRIPTS])
    if replay and not paths:  # by default, replay what has been recorded
        files = [f for f in files if recording_path(f).is_file()]
    if not files:
        raise InputError("transcript", "no transcript file found")
    if replay:
        missing = [str(recording_path(f)) for f in files if not recording_path(f).is_file()]
        if missing:
            raise InputError("--replay", f"no recording for: {', '.join(missing)}; record them with `--record`")

        def model_for(path: Path) -> ChatModel:
            return ReplayChatModel(recording_path(path))
    else:
        from assistant.models.factory import LazyChatModel, chat_model_from_settings, default_model_name

        settings = _settings()
        if model:
            settings = settings.model_copy(update={"model": model})
        live = LazyChatModel(lambda: chat_model_from_settings(settings), name=model or default_model_name(settings))
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""

        def model_for(path: Path) -> ChatModel:
            return RecordingChatModel(live, recording_path(path), secrets=[key]) if record else live

    total = sum(len(load_transcript(f).turns) for f in files)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("Replaying", total=total)
        scores = evaluate(files, model_for, on_turn=lambda tid, n: progress.update(task, advance=1, description=tid))
    summary = summarise(scores)
    console.print(_scores_table(scores, summary))
    mode = "replay" if replay else "record" if record else "live"
    if report:
        written = write_report(report, scores, summary, mode=mode)
        console.print(f"Report written: {', '.join(str(p) for p in written)}")
    if write_baseline:
        write_baseline.write_text(json.dumps(baseline_of(summary), indent=2) + "\n", encoding="utf-8")
        console.print(f"Baseline written to {write_baseline}.")
    if baseline:
        drops = check_baseline(summary, json.loads(baseline.read_text(encoding="utf-8")))
        if drops:
            err_console.print("[bold red]Below the baseline:[/bold red] " + "; ".join(drops), highlight=False)
            raise typer.Exit(1)
        console.print(f"At or above the baseline ({baseline}).")


def _scores_table(scores: list[dict], summary: dict) -> Table:
    table = Table("transcript", "req P", "req R", "req F1", "obj F1", "constr F1", "values", "coverage", "traps")

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    for s in scores:
        r = s["requirements"]
        table.add_row(
            s["id"],
            pct(r["precision"]),
            pct(r["recall"]),
            pct(r["f1"]),
            pct(s["objectives"]["f1"]),
            pct(s["constraints"]["f1"]),
            pct(s["constraint_values"]["accuracy"]),
            pct(s["coverage"]["agreement"]),
            f"{sum(t['passed'] for t in s['traps'])}/{len(s['traps'])}",
        )
    table.add_section()
    table.add_row(
        "all",
        pct(summary["requirement_precision"]),
        pct(summary["requirement_recall"]),
        pct(summary["requirement_f1"]),
        pct(summary["objectives_f1"]),
        pct(summary["constraints_f1"]),
        pct(summary["constraint_value_accuracy"]),
        pct(summary["coverage_agreement"]),
        f"{summary['traps']['passed']}/{summary['traps']['total']}",
        style="bold",
    )
    return table


def main() -> None:
    """Entry point of the `cahier` console script."""
    app()


if __name__ == "__main__":  # `python -m assistant.cli`, e.g. for a worker started by a process manager
    main()
