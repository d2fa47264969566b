"""The embedded model file is assembled from its part packages and refused when its digest is wrong."""

import hashlib
import sys

import pytest

from assistant.models.embedded import LocalModelError, ModelIntegrityError, ModelSpec, assemble_model, part_paths


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three tiny importable part packages shaped like the real ones (`get_part_path()`)."""
    contents = [b"GGUF-part-one|", b"part-two|", b"part-three"]
    for number, data in enumerate(contents, start=1):
        package = tmp_path / "site" / f"fakepart{number}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{number:02d}.bin").write_bytes(data)
        (package / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{number:02d}.bin')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield b"".join(contents)
    for number in range(1, 4):
        sys.modules.pop(f"fakepart{number}", None)


def _spec(content: bytes, sha: str | None = None) -> ModelSpec:
    return ModelSpec(
        name="fake",
        filename="fake.gguf",
        module_format="fakepart{}",
        parts=3,
        size=len(content),
        sha256=sha or hashlib.sha256(content).hexdigest(),
    )


def test_parts_are_joined_in_order_and_verified_once(tmp_path, fake_parts):
    spec = _spec(fake_parts)
    target = assemble_model(spec, tmp_path / "models")
    assert target.read_bytes() == fake_parts
    first_mtime = target.stat().st_mtime_ns
    assert assemble_model(spec, tmp_path / "models") == target
    assert target.stat().st_mtime_ns == first_mtime  # the stamp spared a second assembly


def test_a_wrong_digest_is_refused_and_nothing_is_left_behind(tmp_path, fake_parts):
    spec = _spec(fake_parts, sha="0" * 64)
    with pytest.raises(ModelIntegrityError) as caught:
        assemble_model(spec, tmp_path / "models")
    assert caught.value.expected == "0" * 64
    assert caught.value.actual == hashlib.sha256(fake_parts).hexdigest()
    assert "OPENAI_BASE_URL" in str(caught.value)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_tampered_file_is_reassembled(tmp_path, fake_parts):
    spec = _spec(fake_parts)
    target = assemble_model(spec, tmp_path / "models")
    target.write_bytes(b"x" * len(fake_parts))
    target.with_name(target.name + ".sha256").unlink()
    assert assemble_model(spec, tmp_path / "models").read_bytes() == fake_parts


def test_missing_packages_name_the_fix(fake_parts):
    spec = ModelSpec(name="x", filename="x.gguf", module_format="nosuchpart{}", parts=2, size=1, sha256="0" * 64)
    with pytest.raises(LocalModelError, match="missing package `nosuchpart1`"):
        part_paths(spec)
