"""Access codes and stakeholder links: hashed at rest, checked, rate-limited across processes, revocable."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from assistant import access
from assistant.errors import AccessDeniedError, InputError, TooManyAttemptsError
from assistant.store import Store, access_failures, access_links, metadata

CODE = "correct horse 42"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _dump(store: Store) -> str:
    """Every value of every table, as one string, to look for a secret in clear."""
    with store.engine.connect() as conn:
        return repr([conn.execute(select(table)).all() for table in metadata.sorted_tables])


def test_the_code_is_stored_as_an_argon2id_hash_only(any_store):
    """The database holds an argon2id hash with the documented parameters, never the code itself."""
    project = any_store.create_project("Secret CRM")
    access.set_code(any_store, project.id, CODE)
    stored = any_store.get_access_hash(project.id)
    assert stored is not None and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert CODE not in _dump(any_store)
    assert access.check_code(any_store, project.id, CODE) == stored
    assert any_store.protected_project_ids() == {project.id}


def test_an_unprotected_project_needs_no_code(any_store):
    """Without a code every check passes and says there is nothing to prove."""
    project = any_store.create_project("Open CRM")
    assert access.check_code(any_store, project.id, None) is None
    assert not access.is_protected(any_store, project.id)


@pytest.mark.parametrize("given", [None, "", "wrong code 1", "x" * (access.MAX_CODE_LENGTH + 1)])
def test_a_missing_or_wrong_code_is_refused_without_the_project_name(any_store, given):
    """No code, a wrong code or an oversized one is an `AccessDeniedError` naming the id only."""
    project = any_store.create_project("Secret CRM")
    access.set_code(any_store, project.id, CODE)
    with pytest.raises(AccessDeniedError) as caught:
        access.check_code(any_store, project.id, given)
    assert caught.value.reason == ("code_required" if not given else "wrong_code")
    assert project.id in str(caught.value) and "Secret" not in str(caught.value)


@pytest.mark.parametrize("code", ["short", "       x       ", "y" * (access.MAX_CODE_LENGTH + 1)])
def test_a_weak_or_oversized_new_code_is_refused(any_store, code):
    """A new code must have 8 to 128 characters (not counting surrounding spaces); nothing is stored otherwise."""
    project = any_store.create_project("A")
    with pytest.raises(InputError, match="8 to 128 characters"):
        access.set_code(any_store, project.id, code)
    assert not access.is_protected(any_store, project.id)


def test_changing_or_removing_the_code_requires_the_current_one(any_store):
    """The code changes only with the current code; removing it opens the project and revokes its links."""
    project = any_store.create_project("A")
    access.set_code(any_store, project.id, CODE)
    with pytest.raises(AccessDeniedError):
        access.set_code(any_store, project.id, "another code 1")
    access.set_code(any_store, project.id, "another code 1", current_code=CODE)
    with pytest.raises(AccessDeniedError):
        access.check_code(any_store, project.id, CODE)
    token = access.create_link(any_store, project.id, "another code 1")
    with pytest.raises(AccessDeniedError):
        access.remove_code(any_store, project.id, CODE)
    access.remove_code(any_store, project.id, "another code 1")
    assert not access.is_protected(any_store, project.id)
    with pytest.raises(AccessDeniedError, match="revoked or mistyped"):
        access.check_link(any_store, project.id, token)


def test_five_wrong_codes_lock_the_project_for_every_process(tmp_path):
    """The sixth attempt within 15 minutes is refused, even with the right code and from another `Store`."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = Store(url)
    project = first.create_project("A")
    access.set_code(first, project.id, CODE)
    for minute in range(access.MAX_FAILURES):
        with pytest.raises(AccessDeniedError) as caught:
            access.check_code(first, project.id, f"guess number {minute}", now=NOW + timedelta(minutes=minute))
        assert not isinstance(caught.value, TooManyAttemptsError)
    other_process = Store(url)
    with pytest.raises(TooManyAttemptsError) as locked:
        access.check_code(other_process, project.id, CODE, now=NOW + timedelta(minutes=5))
    # The oldest failure (minute 0) leaves the 15-minute window at minute 15: ten minutes to wait.
    assert locked.value.retry_after_s == 10 * 60
    assert "try again in 10 minute(s)" in str(locked.value)
    assert access.check_code(other_process, project.id, CODE, now=NOW + timedelta(minutes=15)) is not None


def test_a_right_code_clears_the_failure_log(any_store):
    """Four wrong codes then the right one: the count starts again, so five new wrong codes are needed to lock."""
    project = any_store.create_project("A")
    access.set_code(any_store, project.id, CODE)
    for _ in range(access.MAX_FAILURES - 1):
        with pytest.raises(AccessDeniedError):
            access.check_code(any_store, project.id, "wrong code", now=NOW)
    access.check_code(any_store, project.id, CODE, now=NOW)
    with any_store.engine.connect() as conn:
        assert conn.execute(select(access_failures).where(access_failures.c.project_id == project.id)).all() == []
    with pytest.raises(AccessDeniedError) as caught:
        access.check_code(any_store, project.id, "wrong code", now=NOW)
    assert caught.value.reason == "wrong_code"


def test_a_stakeholder_link_is_stored_hashed_and_opens_only_its_project(any_store):
    """The token works for its project, never for another; the database holds its SHA-256, not the token."""
    project = any_store.create_project("A")
    other = any_store.create_project("B")
    access.set_code(any_store, project.id, CODE)
    with pytest.raises(AccessDeniedError):
        access.create_link(any_store, project.id, None)
    token = access.create_link(any_store, project.id, CODE)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    access.check_link(any_store, project.id, token)
    assert token not in _dump(any_store)
    with any_store.engine.connect() as conn:
        assert conn.execute(select(access_links.c.token_hash)).scalars().all() == [access._token_hash(token)]
    for project_id, candidate in ((other.id, token), (project.id, token[:-1]), (project.id, None)):
        with pytest.raises(AccessDeniedError) as caught:
            access.check_link(any_store, project_id, candidate)
        assert caught.value.reason == "bad_link"
    assert access.revoke_links(any_store, project.id, CODE) == 1
    with pytest.raises(AccessDeniedError):
        access.check_link(any_store, project.id, token)
