"""Page script for `st.navigation`; the page itself is `assistant.ui.requirements`."""

from assistant.ui import requirements

requirements.render()
