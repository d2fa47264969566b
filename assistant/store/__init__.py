"""Persistence of projects, turns, extracted objects and draft versions through SQLAlchemy.

SQLite (one file in the data dir) is the default; any PostgreSQL URL works through the same code. Turns,
object versions and section versions are append-only: nothing a stakeholder said or a reviewer wrote is ever
updated in place, so every state of the specification can be shown again.

The package: `tables` holds the schema, `migrations` creates and upgrades it, `rows` checks values on the way in
and builds records on the way out, `bundle` describes a whole project's rows for export and import, `engine` what
differs between SQLite and PostgreSQL, and `database` the `Store` class that uses them all.
"""

from __future__ import annotations

from assistant.store.database import Store
from assistant.store.tables import SCHEMA_VERSION, access_failures, access_links, metadata, projects

# The tables other code reads directly (the tests that count rows and the ones that age an access failure);
# every other table is the store's own business.
__all__ = ["SCHEMA_VERSION", "Store", "access_failures", "access_links", "metadata", "projects"]
