"""Page script for `st.navigation`; the page itself is `assistant.ui.projects`."""

from assistant.ui import projects

projects.render()
