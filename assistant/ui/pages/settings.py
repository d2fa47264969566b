"""Page script for `st.navigation`; the page itself is `assistant.ui.settings`."""

from assistant.ui import settings

settings.render()
