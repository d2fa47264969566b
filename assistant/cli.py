"""The `cahier` command line: projects, exports and the maintenance commands, with readable output."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from assistant.config import Settings, load_settings
from assistant.errors import CahierError
from assistant.export import BY_NAME, FORMATS, file_bytes, render_export
from assistant.schemas import Language, Requirement, Turn
from assistant.store import Store

console = Console()
err_console = Console(stderr=True)


class _CahierGroup(TyperGroup):
    """Shows Cahier's own errors as one readable line (exit code 1) instead of a traceback."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except CahierError as exc:
            err_console.print(f"[bold red]Error:[/bold red] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_CahierGroup,
    help="Cahier: turn stakeholder interviews into a reviewed CRM specification.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
projects_app = typer.Typer(help="Create, list and delete projects.", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
model_app = typer.Typer(help="Inspect the language model Cahier uses.", no_args_is_help=True)
app.add_typer(model_app, name="model")

SAMPLE_QUESTION = "Quel budget et quel calendrier avez-vous en tête pour le projet CRM ?"
SAMPLE_ANSWER = (
    "Notre budget est de 80 k€ HT pour la première année et on doit être en production avant la rentrée 2027. "
    "Les commerciaux doivent pouvoir saisir un compte rendu de visite depuis leur téléphone."
)


ExportFormat = StrEnum("ExportFormat", {fmt.name.upper(): fmt.name for fmt in FORMATS})
"""The `--format` choices: every format of the shared registry."""


def _settings() -> Settings:
    env_file = Path(".env")
    return load_settings(env_file=env_file if env_file.is_file() else None)


def _store() -> Store:
    return Store.from_settings(_settings())


@projects_app.command("list")
def projects_list() -> None:
    """List the projects in the database."""
    store = _store()
    rows = store.list_projects()
    if not rows:
        console.print("No project yet. Create one with [bold]cahier projects create NAME[/bold].")
        return
    table = Table("id", "name", "language", "company", "turns", "requirements", "created")
    for project in rows:
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
) -> None:
    """Delete a project and everything recorded for it."""
    store = _store()
    project = store.get_project(project_id)
    turns: list[Turn] = store.list_turns(project_id)
    if not yes:
        typer.confirm(
            f"Delete project {project.name!r} ({project_id}) with its {len(turns)} turn(s)? This cannot be undone",
            abort=True,
        )
    store.delete_project(project_id)
    console.print(f"Deleted project [bold]{project_id}[/bold].")


@app.command("export")
def export(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.JSON,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (docx and pdf default to PROJECT.<format>)."),
    ] = None,
) -> None:
    """Export a project: the specification (md, docx, pdf), its requirements (reqif, csv for Jira) or all (json)."""
    fmt = BY_NAME[format.value]
    content = file_bytes(render_export(_store(), project_id, fmt.name))
    if out is None and fmt.binary:
        # Binary formats never go to a terminal: without `--out` they land in a file named after the project.
        out = Path(f"{project_id}.{fmt.extension}")
    if out is None:
        sys.stdout.write(content.decode("utf-8"))
        return
    out.write_bytes(content)  # bytes as-is: the CSV keeps its CRLF row ends
    err_console.print(f"Wrote {fmt.name} export of {project_id} to {out}.")


@app.command("draft")
def draft(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    author: Annotated[str, typer.Option(help="Name recorded on the versions this writes.")] = "cahier",
) -> None:
    """Regenerate the draft from the interview's objects and show each section's review state.

    Sections nobody edited follow the objects; edited or approved ones are never overwritten: a change becomes a
    proposal for the reviewer ("changes available").
    """
    from assistant.draft import regenerate, review
    from assistant.draft_template import template_for

    store = _store()
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

    from assistant.knowledge import REPO_KNOWLEDGE_DIR
    from assistant.retrieval import open_index

    index = open_index(_settings())
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("Embedding passages", total=None)
        report = index.ingest(
            knowledge_dir or REPO_KNOWLEDGE_DIR,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Index ready: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted, {report.unchanged} unchanged ({index.count()} passages)."
    )


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    lang: Annotated[Language | None, typer.Option("--lang", "-l")] = None,
    section: Annotated[str | None, typer.Option(help="Only guidance for this section id.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20)] = 3,
) -> None:
    """Search the guidance index (to check what the interview will retrieve)."""
    from assistant.retrieval import open_index

    table = Table("score", "document", "heading", "text")
    for snippet in open_index(_settings()).search(query, lang=lang, section=section, k=k):
        table.add_row(f"{snippet.score:.2f}", snippet.doc_id, snippet.heading, snippet.text[:160])
    console.print(table)


@app.command("reextract")
def reextract(
    project_id: Annotated[str, typer.Argument(help="The project's id.")],
    all_turns: Annotated[bool, typer.Option("--all", help="Redo every answer, not only the failed ones.")] = False,
) -> None:
    """Run extraction again for the answers whose extraction failed (e.g. after the model was down)."""
    from assistant.interview import Interview
    from assistant.llm import chat_model_from_settings

    settings = _settings()
    store = Store.from_settings(settings)
    store.get_project(project_id)
    interview = Interview(store, chat_model_from_settings(settings))
    with console.status("Extracting…"):
        outcomes = interview.reextract(project_id, only_failed=not all_turns)
    table = Table("turn", "status", "created", "updated", "conflicts / error")
    for outcome in outcomes:
        table.add_row(
            str(outcome.turn_id),
            outcome.status,
            ", ".join(outcome.created),
            ", ".join(outcome.updated),
            outcome.error or ", ".join(outcome.conflicts),
        )
    console.print(table if outcomes else "Nothing to redo: every answer was extracted.")


@model_app.command("check")
def model_check() -> None:
    """Show the active model and run one sample French extraction, with its validity and latency."""
    import time

    from assistant.llm import chat_model_from_settings
    from assistant.prompts import load_prompt
    from assistant.schemas import TurnFindings

    settings = _settings()
    provider = settings.resolved_provider
    console.print(f"provider: [bold]{provider}[/bold]")
    started = time.perf_counter()
    model = chat_model_from_settings(settings)
    console.print(f"model:    {model.name}")
    console.print(f"base URL: {getattr(model, 'base_url', '-')}")
    console.print(f"ready in  {time.perf_counter() - started:.1f} s")
    messages = load_prompt("extract_turn").render(
        "fr",
        context="Section en cours : budget",
        question=SAMPLE_QUESTION,
        answer=SAMPLE_ANSWER,
    )
    with console.status("Running one sample extraction…"):
        result = model.extract(messages, TurnFindings)
    findings = result.value
    console.print(
        f"[green]valid[/green] {TurnFindings.__name__} in {result.usage.latency_ms / 1000:.1f} s "
        f"({result.usage.attempts} attempt(s), {result.usage.prompt_tokens} prompt + "
        f"{result.usage.completion_tokens} completion tokens)"
    )
    table = Table("kind", "text")
    for requirement in findings.requirements:
        table.add_row(f"requirement ({requirement.moscow.value})", requirement.statement)
    for constraint in findings.constraints:
        table.add_row(
            f"constraint ({constraint.kind.value})",
            constraint.amount_text or constraint.date_text or constraint.statement,
        )
    console.print(table)


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A file written by `cahier export --format json`.")]) -> None:
    """Restore a project from a JSON export (refused, with nothing changed, if the file is not valid)."""
    from assistant.export.json import import_project

    project_id = import_project(_store(), path)
    console.print(f"Imported project [bold]{project_id}[/bold] from {path}.")


def main() -> None:
    """Entry point of the `cahier` console script."""
    app()
