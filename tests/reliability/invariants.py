"""What "nothing was lost" means, checked on a project's rows: a snapshot before, the same rows after."""

from __future__ import annotations

from typing import Any

from assistant.store import Store

Snapshot = dict[str, list[dict[str, Any]]]

APPEND_ONLY_LOGS = ("turns", "model_usage")
"""Tables a turn may add rows to; every row already there must come back unchanged, in the same order."""

QUEUE = "extractions"
"""One row per answer, whose state moves (queued, running, done, failed): rows may change, never vanish."""

TURN_COUNTER = "TURN"


def snapshot(store: Store, project_id: str) -> Snapshot:
    """Every stored row of the project, table by table (what a JSON export carries)."""
    return store.export_rows(project_id)


def assert_intact(before: Snapshot, after: Snapshot, *, new_turns: int = 0) -> int:
    """Assert no stored row changed or vanished; only `new_turns` turns and their logs may have been added.

    Objects, object versions, section versions, stakeholders and the project must be exactly as before; the
    append-only logs must start with every row they had. Returns how many stored rows were compared.
    """
    compared = 0
    for table, rows in before.items():
        now = after[table]
        if table in APPEND_ONLY_LOGS:
            assert now[: len(rows)] == rows, f"`{table}`: a stored row changed or vanished"
            if table == "turns":
                assert len(now) == len(rows) + new_turns, f"`turns`: expected {new_turns} new turn(s)"
        elif table == QUEUE:
            kept = {row["turn_id"] for row in now}
            assert {row["turn_id"] for row in rows} <= kept, "an answer's extraction state vanished"
        elif table == "id_counters":
            kept = [row for row in rows if row["prefix"] != TURN_COUNTER]
            assert [row for row in now if row["prefix"] != TURN_COUNTER] == kept, "an id was reserved or lost"
        else:
            assert now == rows, f"`{table}` changed"
        compared += len(rows)
    return compared
