"""Cahier's Streamlit entry point: `streamlit run app.py` (or `make run`).

The app is a thin shell over the `assistant` package: `assistant/ui/shell.py` reads the open project and the
person speaking from the URL, draws the sidebar and the navigation, and each page in `assistant/ui/` calls the
package. Tests inject their own services through `assistant.ui.services.OVERRIDE_KEY`.
"""

from __future__ import annotations

import streamlit as st

from assistant.errors import CahierError
from assistant.ui import shell
from assistant.ui.i18n import t

st.set_page_config(page_title="Cahier", page_icon=":material/edit_note:", layout="wide")

try:
    context = shell.prepare()
except CahierError as exc:  # a bad setting or an unreachable database: say which, do not crash
    st.error(t("config.error", shell.ui_language(), error=exc))
    st.stop()

page = shell.navigation(context)
shell.sidebar(context)
shell.show_notice()
page.run()
