"""The `cahier` command line works end to end on a real store."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import AccessDeniedError
from assistant.schemas import Speaker
from assistant.store import Store

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CAHIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "data"


def _project_id(output: str) -> str:
    return output.split("Created project ")[1].split(" ")[0]


def test_help_lists_commands(cli_env):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("projects", "export", "import"):
        assert command in result.output


def test_create_list_delete(cli_env):
    created = runner.invoke(app, ["projects", "create", "CRM Acme", "--language", "en", "--company", "Acme"])
    assert created.exit_code == 0, created.output
    project_id = _project_id(created.output)
    listed = runner.invoke(app, ["projects", "list"])
    assert "CRM Acme" in listed.output and project_id in listed.output
    refused = runner.invoke(app, ["projects", "delete", project_id], input="n\n")
    assert refused.exit_code != 0
    assert "CRM Acme" in runner.invoke(app, ["projects", "list"]).output
    deleted = runner.invoke(app, ["projects", "delete", project_id, "--yes"])
    assert deleted.exit_code == 0
    assert "No project yet" in runner.invoke(app, ["projects", "list"]).output


def test_errors_are_one_readable_line(cli_env):
    result = runner.invoke(app, ["projects", "delete", "missing", "--yes"])
    assert result.exit_code == 1
    assert "no project with id 'missing'" in result.output
    assert "Traceback" not in result.output


def test_bad_setting_names_the_variable(cli_env, monkeypatch):
    monkeypatch.setenv("CAHIER_DATABASE_URL", "oracle://x")
    result = runner.invoke(app, ["projects", "list"])
    assert result.exit_code == 1
    assert "CAHIER_DATABASE_URL" in result.output


def test_export_json_and_import_round_trip(cli_env, tmp_path):
    created = runner.invoke(app, ["projects", "create", "Export me"])
    project_id = _project_id(created.output)
    store = Store(f"sqlite:///{cli_env / 'cahier.db'}")
    person = store.add_stakeholder(project_id, "Alice")
    store.append_turn(project_id, Speaker.STAKEHOLDER, "Le budget est de 80 k€ HT.", "fr", stakeholder_id=person.id)
    out = tmp_path / "export.json"
    exported = runner.invoke(app, ["export", project_id, "--format", "json", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    data = json.loads(out.read_text())
    assert data["format"] == "cahier-project"
    assert data["tables"]["turns"][0]["text"] == "Le budget est de 80 k€ HT."
    runner.invoke(app, ["projects", "delete", project_id, "--yes"])
    imported = runner.invoke(app, ["import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert store.list_turns(project_id)[0].text == "Le budget est de 80 k€ HT."
    assert store.export_rows(project_id) == Store(f"sqlite:///{cli_env / 'cahier.db'}").export_rows(project_id)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"format": "something-else", "tables": {}}', "is not a Cahier project export"),
        (
            b'{"format": "cahier-project", "format_version": 1, "exported_at": "2026-01-01T00:00:00Z",'
            b' "tables": {"projects": [{"id": "p1", "name": "", "language": "fr"}]}}',
            "is not a Cahier project export",
        ),
    ],
)
def test_bad_import_files_are_refused_and_change_nothing(cli_env, tmp_path, content, message):
    runner.invoke(app, ["projects", "create", "Existing"])
    before = runner.invoke(app, ["projects", "list"]).output
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert message in result.output
    assert str(bad) in result.output
    assert runner.invoke(app, ["projects", "list"]).output == before


def test_python_dash_m_runs_the_same_cli(cli_env):
    result = subprocess.run([sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "projects" in result.stdout


def test_importing_the_package_loads_no_vendor():
    code = (
        "import sys, assistant, assistant.store, assistant.schemas, assistant.config, assistant.cli;"
        "vendors = ('streamlit', 'langchain_core', 'langchain_openai', 'openai', 'chromadb');"
        "bad = [m for m in vendors if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


CODE = "s3cret access code"


def _protected_project(cli_env) -> tuple[str, Store]:
    """A project with a person, an answer, a requirement (two versions) and a draft section, then protected."""
    from assistant.schemas import Requirement

    project_id = _project_id(runner.invoke(app, ["projects", "create", "Confidential CRM", "--company", "Acme"]).output)
    store = Store(f"sqlite:///{cli_env / 'cahier.db'}")
    person = store.add_stakeholder(project_id, "Alice", "DSI")
    store.append_turn(project_id, Speaker.STAKEHOLDER, "Budget secret : 80 k€.", "fr", stakeholder_id=person.id)
    requirement = Requirement(id=store.new_id(project_id, Requirement), statement="Le CRM doit suivre les devis")
    store.save_object(project_id, requirement, changed_by=person.id, turn_id=1)
    store.save_object(project_id, requirement.model_copy(update={"moscow": "must"}), changed_by="Bob")
    store.append_section_version(project_id, "budget", "80 k€", state="generated", author="cahier")
    protected = runner.invoke(app, ["projects", "protect", project_id], input=f"{CODE}\n{CODE}\n")
    assert protected.exit_code == 0, protected.output
    return project_id, store


def test_a_protected_project_reveals_nothing_without_its_code(cli_env):
    """Without `--code` every reading command fails with exit 1 and a hint; the name and answers never show."""
    project_id, store = _protected_project(cli_env)
    for path in cli_env.glob("cahier.db*"):  # the database and its WAL
        assert CODE.encode() not in path.read_bytes()
    listed = runner.invoke(app, ["projects", "list"])
    assert project_id in listed.output and "(protected)" in listed.output
    assert "Confidential" not in listed.output and "Acme" not in listed.output
    for command in (
        ["export", project_id, "--format", "md"],
        ["draft", project_id],
        ["reextract", project_id],
        ["projects", "delete", project_id, "--yes"],
        ["projects", "link", project_id],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, command
        assert "protected by an access code" in result.output and "CAHIER_ACCESS_CODE" in result.output, command
        assert "Confidential" not in result.output and "Budget secret" not in result.output, command
    wrong = runner.invoke(app, ["export", project_id, "--format", "md", "--code", "not the code"])
    assert wrong.exit_code == 1 and "wrong access code" in wrong.output
    assert "Confidential" not in wrong.output
    assert store.get_project(project_id).name == "Confidential CRM"  # nothing was deleted on the way


def test_the_code_opens_the_project_by_option_or_environment(cli_env, monkeypatch):
    """The right code, given with `--code` or `CAHIER_ACCESS_CODE`, lets the export through."""
    project_id, _ = _protected_project(cli_env)
    by_option = runner.invoke(app, ["export", project_id, "--format", "md", "--code", CODE])
    assert by_option.exit_code == 0, by_option.output
    assert "Le CRM doit suivre les devis" in by_option.output
    monkeypatch.setenv("CAHIER_ACCESS_CODE", CODE)
    by_env = runner.invoke(app, ["export", project_id, "--format", "md"])
    assert by_env.exit_code == 0 and by_env.output == by_option.output


def test_too_many_wrong_codes_lock_the_command_line(cli_env):
    """After five wrong codes even the right one is refused, with the time to wait."""
    project_id, _ = _protected_project(cli_env)
    for _ in range(5):
        assert runner.invoke(app, ["export", project_id, "--code", "a wrong code"]).exit_code == 1
    locked = runner.invoke(app, ["export", project_id, "--code", CODE])
    assert locked.exit_code == 1
    assert "too many wrong access codes" in locked.output and "try again in 15 minute(s)" in locked.output


def test_unprotect_and_links(cli_env):
    """`link` prints a working token once, `link --revoke` kills it, `unprotect` opens the project."""
    from assistant import access

    project_id, store = _protected_project(cli_env)
    made = runner.invoke(app, ["projects", "link", project_id, "--code", CODE])
    assert made.exit_code == 0, made.output
    token = made.output.split("&link=")[1].split()[0]
    access.check_link(store, project_id, token)
    revoked = runner.invoke(app, ["projects", "link", project_id, "--revoke", "--code", CODE])
    assert revoked.exit_code == 0 and "Revoked 1 link(s)" in revoked.output
    with pytest.raises(AccessDeniedError):
        access.check_link(store, project_id, token)
    assert runner.invoke(app, ["projects", "unprotect", project_id, "--code", "wrong code!"]).exit_code == 1
    assert runner.invoke(app, ["projects", "unprotect", project_id, "--code", CODE]).exit_code == 0
    assert "Confidential CRM" in runner.invoke(app, ["projects", "list"]).output


def test_export_delete_import_restores_a_protected_project_without_its_code(cli_env, tmp_path):
    """JSON export → delete → import gives back the same rows; the export holds no hash and the import is open."""
    project_id, store = _protected_project(cli_env)
    before = store.export_rows(project_id)
    out = tmp_path / "p.json"
    assert runner.invoke(app, ["export", project_id, "--out", str(out), "--code", CODE]).exit_code == 0
    text = out.read_text()
    assert "argon2" not in text
    assert set(json.loads(text)["tables"]).isdisjoint({"project_access", "access_links", "access_failures"})
    refused = runner.invoke(app, ["projects", "delete", project_id], input="y\n")
    assert refused.exit_code == 1  # no code, no deletion (and no prompt showing the name)
    deleted = runner.invoke(app, ["projects", "delete", project_id, "--code", CODE], input="y\n")
    assert deleted.exit_code == 0, deleted.output
    imported = runner.invoke(app, ["import", str(out)])
    assert imported.exit_code == 0 and "no access code" in imported.output
    after = store.export_rows(project_id)
    for table in ("turns", "objects", "object_versions", "section_versions"):
        assert after[table] == before[table] and before[table], table
    assert after == before
    assert store.get_access_hash(project_id) is None
