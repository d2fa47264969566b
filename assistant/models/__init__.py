"""Every model call goes through this package: the `ChatModel` port, its OpenAI-compatible adapter, the embedded
llama.cpp server, the factory that builds one from the settings, recording and replay, and test doubles."""
