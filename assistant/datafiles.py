"""Reading the YAML files Cahier is configured with (plan, prompts, draft templates), validated when loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import CahierError

M = TypeVar("M", bound=BaseModel)


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
