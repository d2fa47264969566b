"""Page script for `st.navigation`; the page itself is `assistant.ui.chat`."""

from assistant.ui import chat

chat.render()
