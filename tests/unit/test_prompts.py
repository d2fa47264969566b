"""Prompt files are validated when loaded, and every shipped prompt renders in both languages."""

import pytest

from assistant.models.prompts import PromptError, all_prompt_files, load_prompt_file

GOOD = """id: sample
version: 1
description: A sample prompt for tests.
variables: [answer]
languages:
  fr:
    - role: user
      content: "Réponse : ${answer} (coût : 5 $$)"
  en:
    - role: user
      content: "Answer: ${answer} (cost: 5 $$)"
"""


def _write(tmp_path, text, name="sample.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", all_prompt_files(), ids=lambda p: p.name)
def test_every_shipped_prompt_renders_in_both_languages(path):
    spec = load_prompt_file(path)
    values = {name: f"<{name} value>" for name in spec.variables}
    for lang in ("fr", "en"):
        messages = spec.render(lang, **values)
        text = "\n".join(m.content for m in messages)
        assert all(f"<{name} value>" in text for name in spec.variables)
        assert "${" not in text


def test_render_fills_variables_and_keeps_literal_dollars(tmp_path):
    spec = load_prompt_file(_write(tmp_path, GOOD))
    assert spec.render("fr", answer="80 k€")[0].content == "Réponse : 80 k€ (coût : 5 $)"


def test_render_refuses_missing_and_unknown_variables(tmp_path):
    spec = load_prompt_file(_write(tmp_path, GOOD))
    with pytest.raises(PromptError, match=r"missing variable\(s\) \['answer'\]"):
        spec.render("en")
    with pytest.raises(PromptError, match=r"unknown variable\(s\) \['extra'\]"):
        spec.render("en", answer="x", extra="y")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("variables: [answer]", "variables: [answer, budget]"), "never uses declared"),
        (lambda t: t.replace("variables: [answer]", "variables: []"), "undeclared variable"),
        (lambda t: t.split("  en:")[0], "missing language"),
        (lambda t: t.replace("version: 1", "version: 1\ncolour: blue"), "Extra inputs are not permitted"),
        (lambda t: t.replace("role: user", "role: robot", 1), "role"),
        (lambda t: t.replace("id: sample", "id: other"), "must match the file name"),
        (lambda t: "id: [broken", "cannot read prompt file"),
    ],
)
def test_invalid_prompt_files_fail_loudly_with_the_file(tmp_path, change, message):
    path = _write(tmp_path, change(GOOD))
    with pytest.raises(PromptError) as caught:
        load_prompt_file(path)
    assert message in str(caught.value)
    assert "sample.yaml" in str(caught.value)
