"""AppTest fixtures: the real app script with services built on a temporary store and a scripted model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader
from assistant.models.testing import ScriptedChatModel
from assistant.store import Store
from assistant.ui.services import OVERRIDE_KEY, Services

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 20


@dataclass
class App:
    """The services a test injected, and a way to open the app on them (optionally at a URL's query params)."""

    services: Services
    model: ScriptedChatModel

    @property
    def store(self) -> Store:
        return self.services.store

    def open(self, **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.session_state[OVERRIDE_KEY] = self.services
        for name, value in query.items():
            at.query_params[name] = value
        return at.run()


def build_app(tmp_path: Path) -> App:
    """Services on a fresh SQLite store in `tmp_path` with a scripted model; close `app.store` when done."""
    store = Store(f"sqlite:///{tmp_path}/c.db")
    model = ScriptedChatModel()
    services = Services(
        Settings(data_dir=tmp_path / "data"), store, model, Interview(store, model, reader=FindingsReader())
    )
    return App(services, model)


def texts(at: AppTest) -> str:
    """Every Markdown, caption and alert text on the page, for `in` checks."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("error", "warning", "info", "success"):
        parts += [e.value for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)
