"""Prompt files: load, validate and render the YAML specs in `prompts/`.

A prompt is data, reviewed like code: each file declares its variables and carries its messages in French and
English. Loading refuses unknown keys, undeclared or unused placeholders and a missing language; rendering
refuses a missing or unexpected variable, so a renamed field can never send a half-filled prompt.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.errors import CahierError
from assistant.models.port import Message
from assistant.resources import load_yaml_model, shared_data_path
from assistant.schemas import Language

PROMPTS_DIR = shared_data_path("prompts")


class PromptError(CahierError):
    """A prompt file is invalid, or a render was asked with the wrong variables."""


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


def _placeholders(text: str) -> set[str]:
    names = set()
    for _, named, braced, invalid in string.Template.pattern.findall(text):
        if invalid:
            raise ValueError(
                f"invalid placeholder near {text[max(0, len(text) - 40) :]!r}; write `$$` for a dollar sign"
            )
        if named or braced:
            names.add(named or braced)
    return names


class PromptSpec(BaseModel):
    """The content of one prompt file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str = Field(min_length=5)
    variables: list[str] = Field(default_factory=list)
    languages: dict[Language, list[PromptMessage]]

    @model_validator(mode="after")
    def _placeholders_match_variables(self) -> PromptSpec:
        missing_langs = set(Language) - set(self.languages)
        if missing_langs:
            raise ValueError(f"missing language(s): {sorted(lang.value for lang in missing_langs)}")
        declared = set(self.variables)
        for lang, messages in self.languages.items():
            if not messages:
                raise ValueError(f"`{lang.value}` has no message")
            used = set().union(*(_placeholders(m.content) for m in messages))
            if used - declared:
                raise ValueError(f"`{lang.value}` uses undeclared variable(s) {sorted(used - declared)}")
            if declared - used:
                raise ValueError(f"`{lang.value}` never uses declared variable(s) {sorted(declared - used)}")
        return self

    def render(self, language: Language | str, **values: object) -> list[Message]:
        """The messages in `language` with every variable filled.

        Raises:
            PromptError: a variable is missing or was not declared by the prompt.
        """
        missing = set(self.variables) - set(values)
        unknown = set(values) - set(self.variables)
        if missing or unknown:
            raise PromptError(
                f"prompt `{self.id}`: missing variable(s) {sorted(missing)}, unknown variable(s) {sorted(unknown)}"
            )
        text_values = {name: str(value) for name, value in values.items()}
        return [
            Message(role=m.role, content=string.Template(m.content).substitute(text_values))
            for m in self.languages[Language(language)]
        ]


def load_prompt_file(path: Path) -> PromptSpec:
    spec = load_yaml_model(path, PromptSpec, what="prompt file", error=PromptError)
    if spec.id != path.stem:
        raise PromptError(f"prompt file {str(path)!r} declares id {spec.id!r}; it must match the file name")
    return spec


@lru_cache(maxsize=64)
def load_prompt(prompt_id: str, directory: Path = PROMPTS_DIR) -> PromptSpec:
    """The validated prompt `prompt_id` from `directory` (cached: files are read once per process)."""
    return load_prompt_file(directory / f"{prompt_id}.yaml")


def all_prompt_files(directory: Path = PROMPTS_DIR) -> list[Path]:
    """Every prompt spec (the interview plan files, which have their own format, are excluded)."""
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("plan"))
