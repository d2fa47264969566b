"""Page script for `st.navigation`; the page itself is `assistant.ui.export`."""

from assistant.ui import export

export.render()
