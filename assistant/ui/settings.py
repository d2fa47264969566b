"""The settings page: the model (test a connection, use another one for this session), the project, its access
code and stakeholder links, the data, and deleting the project.

An API key typed here lives only in this browser session's memory: it is never written to disk, never logged,
and gone when the session ends. Permanent settings are environment variables (see the README).
"""

from __future__ import annotations

import time

import streamlit as st
from pydantic import SecretStr

from assistant import access
from assistant.errors import AccessDeniedError, CahierError, InputError, TooManyAttemptsError
from assistant.models.factory import ModelChoice, chat_model_from_settings
from assistant.models.port import Message
from assistant.schemas import Language
from assistant.ui import display
from assistant.ui.services import SESSION_MODEL_KEY, get_services
from assistant.ui.shell import PAGE_FILES, Context, grant_access, notify, open_project, page_context

TEST_TIMEOUT_S = 30.0

_PROVIDERS = ("local", "openai", "openai_compatible")


def render() -> None:
    context = page_context()
    st.title(context.t("settings.title"), anchor=False)
    _model(context)
    if context.project is not None:
        _project(context)
        _access(context)
    _data(context)
    if context.project is not None:
        _delete(context)


def _model(context: Context) -> None:
    settings = context.services.settings
    status = context.services.model_status()
    with st.container(border=True):
        st.subheader(context.t("settings.model"), anchor=False)
        where = context.t("model.local" if status.local else "model.remote")
        st.markdown(
            context.t("settings.current", name=display.code(status.name), provider=status.provider, where=where)
        )
        choice: ModelChoice | None = st.session_state.get(SESSION_MODEL_KEY)
        default_provider = choice.provider if choice else settings.resolved_provider
        provider = st.radio(
            context.t("settings.provider"),
            _PROVIDERS,
            index=_PROVIDERS.index(default_provider) if default_provider in _PROVIDERS else 0,
            format_func=lambda name: context.t(f"settings.providers.{name}"),
            key="settings.provider",
        )
        if provider == "local":
            st.caption(context.t("settings.local_note"))
            if st.button(context.t("settings.test"), icon=":material/network_check:", key="settings.test_local"):
                _test(context, None)
            if choice is not None and st.button(context.t("settings.reset"), key="settings.reset"):
                st.session_state.pop(SESSION_MODEL_KEY, None)
                st.rerun()
            return
        with st.form("settings.model_form", border=False):
            model = st.text_input(
                context.t("settings.model_name"),
                value=(choice.model if choice else settings.model) or "",
                placeholder="gpt-4o-mini" if provider == "openai" else "qwen2.5-7b-instruct",
            )
            base_url = ""
            if provider == "openai_compatible":
                base_url = st.text_input(
                    context.t("settings.base_url"),
                    value=(choice.base_url if choice else settings.openai_base_url) or "",
                    placeholder="http://127.0.0.1:8080/v1",
                )
            key = st.text_input(
                context.t("settings.key"), type="password", help=context.t("settings.key_help"), key="settings.key"
            )
            test, use = st.columns(2)
            tested = test.form_submit_button(context.t("settings.test"), icon=":material/network_check:")
            used = use.form_submit_button(context.t("settings.use"), type="primary", icon=":material/check:")
        st.caption(context.t("settings.env_note"))
        if choice is not None:
            st.info(context.t("settings.using", name=display.code(choice.model)))
            if st.button(context.t("settings.reset"), key="settings.reset"):
                st.session_state.pop(SESSION_MODEL_KEY, None)
                st.rerun()
        if not (tested or used):
            return
        secret = key or (choice.api_key.get_secret_value() if choice and choice.api_key else "")
        if not secret and provider == "openai" and settings.openai_api_key is not None:
            secret = settings.openai_api_key.get_secret_value()
        if provider == "openai_compatible" and not base_url.strip():
            st.error(context.t("settings.needs_url"))
            return
        if provider == "openai" and not secret:
            st.error(context.t("settings.needs_key"))
            return
        new_choice = ModelChoice(
            provider="openai" if provider == "openai" else "openai_compatible",
            model=model.strip(),
            base_url=base_url.strip().rstrip("/") or None,
            api_key=SecretStr(secret) if secret else None,
        )
        if tested:
            _test(context, new_choice)
        if used:
            st.session_state[SESSION_MODEL_KEY] = new_choice
            st.rerun()


def _test(context: Context, choice: ModelChoice | None) -> None:
    """One tiny reply from the model; the outcome is shown, the key never is."""
    with st.spinner(context.t("settings.testing")):
        started = time.perf_counter()
        try:
            if choice is None:
                model = get_services().model
            else:
                model = chat_model_from_settings(
                    context.services.settings, choice, timeout_s=TEST_TIMEOUT_S, max_retries=0
                )
            "".join(model.reply([Message("user", "Reply with the single word OK.")]))
        except (CahierError, ValueError) as exc:
            st.error(context.t("settings.test_failed", error=display.text(str(exc))), icon=":material/error:")
            return
    st.success(context.t("settings.test_ok", ms=int((time.perf_counter() - started) * 1000)), icon=":material/check:")


def _project(context: Context) -> None:
    project = context.project
    assert project is not None
    with st.container(border=True):
        st.subheader(context.t("settings.project"), anchor=False)
        with st.form("settings.project_form", border=False):
            name = st.text_input(context.t("projects.name"), value=project.name, max_chars=200)
            company = st.text_input(context.t("projects.company"), value=project.company, max_chars=500)
            language = st.radio(
                context.t("settings.plan_language"),
                [Language.FR, Language.EN],
                index=0 if project.language is Language.FR else 1,
                format_func=lambda code: context.t(f"language.{code.value}"),
                horizontal=True,
            )
            if st.form_submit_button(context.t("settings.save_project"), icon=":material/save:"):
                try:
                    context.store.update_project(project.id, name=name, company=company, language=language)
                except CahierError as exc:
                    st.error(display.text(str(exc)))
                    return
                notify(context.t("settings.project_saved"))
                st.rerun()


def _data(context: Context) -> None:
    settings = context.services.settings
    with st.container(border=True):
        st.subheader(context.t("settings.data"), anchor=False)
        index = context.services.index
        if index is not None:
            try:
                index_text = context.tn("settings.index_count", index.count())
            except Exception as exc:  # chromadb raises unrelated types
                index_text = context.t("settings.index_missing", error=exc)
        else:
            index_text = context.t("settings.index_missing", error=context.services.index_note)
        chroma = settings.chroma_host
        where = f"{chroma}:{settings.chroma_port}" if chroma else settings.resolved_chroma_path
        rows = [
            (context.t("settings.data_dir"), str(settings.data_dir)),
            (context.t("settings.database"), _redacted(context.store.url)),
            (context.t("settings.index"), f"{where} — {index_text}"),
        ]
        st.markdown("\n".join(f"- **{title}** : {display.code(value)}" for title, value in rows))


def _redacted(url: str) -> str:
    """The URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def _access_refused(context: Context, exc: CahierError) -> None:
    """Say why an access action was refused, in the page's language."""
    if isinstance(exc, TooManyAttemptsError):
        st.error(context.tn("access.too_many", max(1, -(-exc.retry_after_s // 60))))
    elif isinstance(exc, AccessDeniedError):
        st.error(context.t("access.wrong_code"))
    elif isinstance(exc, InputError):
        st.error(context.t("settings.code_invalid", min=access.MIN_CODE_LENGTH, max=access.MAX_CODE_LENGTH))
    else:
        st.error(display.text(str(exc)))


def _access(context: Context) -> None:
    """Set, change or remove the access code; make or revoke stakeholder links. Each asks for the current code."""
    project = context.project
    assert project is not None
    store = context.store
    protected = access.is_protected(store, project.id)
    with st.container(border=True):
        st.subheader(context.t("settings.access"), anchor=False)
        st.caption(context.t("settings.access_on" if protected else "settings.access_off"))
        with st.form("settings.code_form", border=False, clear_on_submit=True):
            current = (
                st.text_input(context.t("settings.current_code"), type="password", key="settings.current_code")
                if protected
                else None
            )
            new = st.text_input(
                context.t("settings.new_code"),
                type="password",
                help=context.t("settings.code_help", min=access.MIN_CODE_LENGTH, max=access.MAX_CODE_LENGTH),
                key="settings.new_code",
            )
            again = st.text_input(context.t("settings.new_code_again"), type="password", key="settings.new_code_again")
            save, remove = st.columns(2)
            saved = save.form_submit_button(context.t("settings.save_code"), icon=":material/lock:")
            removed = protected and remove.form_submit_button(
                context.t("settings.remove_code"), icon=":material/lock_open:"
            )
        try:
            if saved:
                if new != again:
                    st.error(context.t("settings.codes_differ"))
                else:
                    grant_access(project.id, access.set_code(store, project.id, new, current_code=current))
                    notify(context.t("settings.code_saved"))
                    st.rerun()
            if removed:
                access.remove_code(store, project.id, current)
                notify(context.t("settings.code_removed"))
                st.rerun()
        except CahierError as exc:
            _access_refused(context, exc)

        st.markdown(f"**{context.t('settings.links')}**")
        st.caption(context.t("settings.links_intro", count=store.count_access_links(project.id)))
        with st.form("settings.link_form", border=False, clear_on_submit=True):
            code = (
                st.text_input(context.t("settings.current_code"), type="password", key="settings.link_code")
                if protected
                else None
            )
            make, revoke = st.columns(2)
            made = make.form_submit_button(context.t("settings.create_link"), icon=":material/link:")
            revoked = revoke.form_submit_button(context.t("settings.revoke_links"), icon=":material/link_off:")
        try:
            if made:
                token = access.create_link(store, project.id, code)
                st.success(context.t("settings.link_made"))
                st.code(f"?project={project.id}&link={token}", language=None)
            if revoked:
                notify(context.tn("settings.links_revoked", access.revoke_links(store, project.id, code)))
                st.rerun()
        except CahierError as exc:
            _access_refused(context, exc)


def _delete(context: Context) -> None:
    """Delete the project after an explicit confirmation (and its code, when it has one)."""
    project = context.project
    assert project is not None
    protected = access.is_protected(context.store, project.id)
    with st.container(border=True):
        st.subheader(context.t("settings.delete"), anchor=False)
        st.caption(context.t("settings.delete_intro"))
        with st.form("settings.delete_form", border=False):
            confirmed = st.checkbox(context.t("settings.delete_confirm"), key="settings.delete_confirm")
            code = (
                st.text_input(context.t("settings.current_code"), type="password", key="settings.delete_code")
                if protected
                else None
            )
            deleted = st.form_submit_button(
                context.t("settings.delete_button"), type="primary", icon=":material/delete_forever:"
            )
        if not deleted:
            return
        if not confirmed:
            st.error(context.t("settings.delete_unconfirmed"))
            return
        try:
            access.check_code(context.store, project.id, code)
            context.store.delete_project(project.id)
        except CahierError as exc:
            _access_refused(context, exc)
            return
        open_project(None)
        notify(context.t("settings.deleted", id=project.id))
        st.switch_page(PAGE_FILES["projects"])
