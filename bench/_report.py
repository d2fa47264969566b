"""What every benchmark shares: a rich table on the terminal and, with `--json PATH`, one flat JSON object."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def report(title: str, figures: dict[str, float | int | str], json_path: Path | None) -> None:
    """Print `figures` as a two-column table and write them as flat JSON when asked."""
    table = Table("figure", "value", title=title)
    for name, value in figures.items():
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
