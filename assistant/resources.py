"""Where Cahier's data files are, in a checkout and in an installed wheel, and reading them validated.

The prompts and the knowledge documents live at the top of the repository (`prompts/`, `knowledge/`), where
people edit them; the wheel carries them inside the package as `assistant/_data/…` (the build backend's
include mapping in `pyproject.toml`). Data that belongs to one sub-package (lexicons, draft templates,
stopwords, locale catalogs) sits beside its code and ships as package data. Everything is found through
`importlib.resources`, so a plain `pip install` runs as well as an editable checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import CahierError

M = TypeVar("M", bound=BaseModel)

SharedData = Literal["prompts", "knowledge", "app.py"]


def shared_data_path(name: SharedData) -> Path:
    """`prompts/`, `knowledge/` or the entry point `app.py`: inside the installed package, else the checkout's."""
    packaged = package_path("assistant", "_data", name)
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def package_path(package: str, *parts: str) -> Path:
    """A file or directory shipped inside `package` (wheels are installed unpacked, so this is a real path)."""
    return Path(str(files(package).joinpath(*parts)))


def load_yaml_model(path: Path, model: type[M], *, what: str, error: type[CahierError]) -> M:
    """Parse `path` as YAML and validate it as `model`.

    Args:
        what: how the file is named in messages ("plan", "prompt file", "draft template").
        error: the error type to raise; its message names the file and the first problem.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(f"cannot read {what} {str(path)!r}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise error(f"{what} {str(path)!r}, `{where}`: {first['msg']}") from exc
