"""Page script for `st.navigation`; the page itself is `assistant.ui.draft`."""

from assistant.ui import draft

draft.render()
