"""The `cahier` command line works end to end on a real store."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from assistant.cli import app
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
