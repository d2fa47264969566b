"""What every page shares: the open project and the person speaking (both carried by the URL), the sidebar.

The URL is the source of truth: `?project=<id>&who=<stakeholder id>` reopens exactly the same interview after a
refresh or from a shared link, because everything else is read from the store. Session state only mirrors the
URL, so that the values survive page switches that drop the query string.

A protected project opens only once this session gave its access code (the session keeps the code's current hash
as proof, so a changed code locks it again), or through a stakeholder link (`?project=<id>&link=<token>`), which
shows the interview page alone. Until then the page shows an unlock form and nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import streamlit as st

from assistant import access
from assistant.errors import AccessDeniedError, CahierError, NotFoundError, TooManyAttemptsError
from assistant.interview.service import TurnResult
from assistant.resources import package_path
from assistant.schemas import Coverage, Language, Project, SectionId, Speaker, Stakeholder, Turn
from assistant.store import Store
from assistant.ui import display
from assistant.ui.i18n import coverage_icon, has, section_title, t, tn
from assistant.ui.services import Services, get_services

PROJECT_PARAM = "project"
SPEAKER_PARAM = "who"
LANGUAGE_PARAM = "lang"
LINK_PARAM = "link"

_PROJECT_KEY = "cahier.project"
_SPEAKER_KEY = "cahier.speaker"
_CONTEXT_KEY = "cahier.context"
_NOTICE_KEY = "cahier.notice"
_UNLOCKED_KEY = "cahier.unlocked"
"""{project id: hash of its access code when this session gave it}: the session's proof for protected projects."""
_LINK_KEY = "cahier.link"
"""(project id, token) of the stakeholder link this session was opened with: it sees the interview page only."""
FRESH_QUESTION_KEY = "cahier.fresh_question"
"""The question turn just asked in this session: the chat page streams it once."""
TURN_RESULTS_KEY = "cahier.turn_results"
"""{question turn id: TurnResult}: the options and citations returned with each question asked in this session."""

PAGE_FILES = {
    name: str(package_path("assistant.ui", "pages", f"{name}.py"))
    for name in ("projects", "chat", "requirements", "draft", "export", "settings")
}
"""The page scripts, by absolute path: the entry point is `app.py` in a checkout, the copy in the wheel otherwise."""
_PAGE_ICONS = {
    "projects": ":material/folder_open:",
    "chat": ":material/forum:",
    "requirements": ":material/checklist:",
    "draft": ":material/description:",
    "export": ":material/download:",
    "settings": ":material/settings:",
}


@dataclass
class Context:
    """What a page needs to render, read once per run."""

    services: Services
    project: Project | None
    language: Language
    stakeholders: list[Stakeholder] = field(default_factory=list)
    speaker: Stakeholder | None = None
    locked_project_id: str | None = None
    """A protected project asked for (by the URL or a click) whose code this session has not given."""
    link_only: bool = False
    """Opened through a stakeholder link: read the interview and answer, nothing else."""

    @property
    def store(self) -> Store:
        return self.services.store

    @cached_property
    def turns(self) -> list[Turn]:
        return self.store.list_turns(self.project.id) if self.project else []

    @property
    def current_section(self) -> SectionId | None:
        """The section of the latest question asked."""
        for turn in reversed(self.turns):
            if turn.speaker is Speaker.ASSISTANT:
                slot = turn.meta.slot
                return slot.section if slot else None
        return None

    @property
    def author(self) -> str:
        """Who a manual change is recorded under: the person speaking, else a generic reviewer."""
        return self.speaker.id if self.speaker else "reviewer"

    def t(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)

    def tn(self, key: str, count: int, **values: object) -> str:
        """The plural form of `key` for `count`, in the page's language."""
        return tn(key, count, self.language, **values)

    def person_name(self, stakeholder_id: str) -> str:
        person = next((s for s in self.stakeholders if s.id == stakeholder_id), None)
        return person.name if person else stakeholder_id


def open_project(project_id: str | None) -> None:
    """Make `project_id` the open project (None closes it); the URL follows."""
    st.session_state.pop(_SPEAKER_KEY, None)
    st.query_params.pop(SPEAKER_PARAM, None)
    st.query_params.pop(LINK_PARAM, None)
    if project_id is None:
        st.session_state.pop(_PROJECT_KEY, None)
        st.query_params.pop(PROJECT_PARAM, None)
    else:
        st.session_state[_PROJECT_KEY] = project_id
        st.query_params[PROJECT_PARAM] = project_id


def choose_speaker(stakeholder_id: str | None) -> None:
    if stakeholder_id is None:
        st.session_state.pop(_SPEAKER_KEY, None)
        st.query_params.pop(SPEAKER_PARAM, None)
    else:
        st.session_state[_SPEAKER_KEY] = stakeholder_id
        st.query_params[SPEAKER_PARAM] = stakeholder_id


def notify(message: str, kind: str = "success") -> None:
    """A message shown once at the top of the next page run (after a callback or a rerun)."""
    st.session_state[_NOTICE_KEY] = (kind, message)


def show_notice() -> None:
    notice = st.session_state.pop(_NOTICE_KEY, None)
    if notice:
        kind, message = notice
        getattr(st, kind)(message)


def remember_question(result: TurnResult) -> None:
    """Keep what the interview returned with a question (options, citations) and mark it for streaming."""
    st.session_state.setdefault(TURN_RESULTS_KEY, {})[result.question_turn_id] = result
    st.session_state[FRESH_QUESTION_KEY] = result.question_turn_id


def ui_language() -> Language:
    """The interface language before a project is open: French unless the URL asks for English."""
    return Language.EN if st.query_params.get(LANGUAGE_PARAM) == "en" else Language.FR


def grant_access(project_id: str, code_hash: str | None) -> None:
    """Remember that this session gave the project's code (`code_hash` is what `access.check_code` returned)."""
    if code_hash is not None:
        st.session_state.setdefault(_UNLOCKED_KEY, {})[project_id] = code_hash


def has_access(store: Store, project_id: str) -> bool:
    """True for an unprotected project or one whose current code this session gave."""
    stored = store.get_access_hash(project_id)
    return stored is None or st.session_state.get(_UNLOCKED_KEY, {}).get(project_id) == stored


def _access_mode(store: Store, project_id: str) -> str:
    """``full``, ``link`` (a live stakeholder link for this project) or ``locked``."""
    held = st.session_state.get(_LINK_KEY)
    token = st.query_params.get(LINK_PARAM) or (held[1] if held and held[0] == project_id else None)
    if token:
        try:
            access.check_link(store, project_id, token)
        except AccessDeniedError:
            st.session_state.pop(_LINK_KEY, None)
            st.query_params.pop(LINK_PARAM, None)
            notify(t("access.bad_link", ui_language()), "error")
        else:
            st.session_state[_LINK_KEY] = (project_id, token)
            if st.query_params.get(LINK_PARAM) != token:
                st.query_params[LINK_PARAM] = token
            return "link"
    return "full" if has_access(store, project_id) else "locked"


def prepare() -> Context:
    """Read the services, the project and the speaker for this run, keeping URL and session state in step."""
    services = get_services()
    project_id = st.query_params.get(PROJECT_PARAM) or st.session_state.get(_PROJECT_KEY)
    project = None
    mode = "full"
    if project_id:
        try:
            project = services.store.get_project(project_id)
        except NotFoundError:
            notify(t("project.missing", ui_language(), id=project_id), "warning")
            open_project(None)
    if project is not None:
        mode = _access_mode(services.store, project.id)
    if project is not None and mode == "locked":
        # Nothing of the project is read or written (not even its first question) before the code is given.
        st.session_state[_PROJECT_KEY] = project.id
        if st.query_params.get(PROJECT_PARAM) != project.id:
            st.query_params[PROJECT_PARAM] = project.id
        context = Context(services, None, ui_language(), locked_project_id=project.id)
    elif project is None:
        context = Context(services, None, ui_language())
    else:
        if st.query_params.get(PROJECT_PARAM) != project.id:
            st.query_params[PROJECT_PARAM] = project.id
        st.session_state[_PROJECT_KEY] = project.id
        stakeholders = services.store.list_stakeholders(project.id)
        speaker_id = st.query_params.get(SPEAKER_PARAM) or st.session_state.get(_SPEAKER_KEY)
        speaker = next((s for s in stakeholders if s.id == speaker_id), None)
        if speaker is not None:
            choose_speaker(speaker.id)
        elif speaker_id:
            choose_speaker(None)
        context = Context(services, project, project.language, stakeholders, speaker, link_only=mode == "link")
        if not context.turns:  # a project just opened: its first question is asked once, whatever the page
            remember_question(services.interview.start(project.id))
            context.__dict__.pop("turns", None)
    st.session_state[_CONTEXT_KEY] = context
    return context


def page_context() -> Context:
    """The context `app.py` prepared for this run (pages call this first)."""
    return st.session_state[_CONTEXT_KEY]


def navigation(context: Context) -> st.Page:
    """Register the pages (all of them always, so `st.switch_page` works) and return the one to run.

    Without an open project the menu is hidden and the project picker is the default page. A stakeholder link
    registers the interview page alone: no other page can be reached, even by its URL.
    """
    order = ["chat"] if context.link_only else ["chat", "requirements", "draft", "export", "settings", "projects"]
    default = "chat" if context.project or context.locked_project_id else "projects"
    pages = [
        st.Page(
            PAGE_FILES[name],
            title=context.t(f"nav.{name}"),
            icon=_PAGE_ICONS[name],
            url_path=name,
            default=name == default,
        )
        for name in order
    ]
    visible = context.project is not None and not context.link_only
    return st.navigation(pages, position="top" if visible else "hidden")


def require_project(context: Context) -> Project:
    """The open project, or the unlock form of a protected one, or a prompt to choose one; then the run ends."""
    if context.locked_project_id is not None:
        unlock_form(context)
        st.stop()
    if context.project is None:
        st.info(context.t("project.needed"))
        st.page_link(PAGE_FILES["projects"], label=context.t("project.go"), icon=_PAGE_ICONS["projects"])
        st.stop()
    return context.project


def unlock_form(context: Context) -> None:
    """Ask for a protected project's code; shows its id only, never its name or content."""
    project_id = context.locked_project_id
    assert project_id is not None
    st.title(context.t("access.locked_title"), anchor=False)
    st.caption(context.t("access.locked_intro", id=project_id))
    with st.form("access.unlock", border=True):
        code = st.text_input(context.t("access.code"), type="password", max_chars=access.MAX_CODE_LENGTH)
        if st.form_submit_button(context.t("access.unlock"), type="primary", icon=":material/lock_open:"):
            try:
                proof = access.check_code(context.store, project_id, code)
            except TooManyAttemptsError as exc:
                st.error(context.tn("access.too_many", max(1, -(-exc.retry_after_s // 60))))
            except AccessDeniedError:
                st.error(context.t("access.wrong_code"))
            else:
                grant_access(project_id, proof)
                st.rerun()
    st.button(context.t("access.other_project"), icon=":material/swap_horiz:", on_click=open_project, args=(None,))


# -- sidebar ---------------------------------------------------------------------------------------------


def sidebar(context: Context) -> None:
    if context.project is None:
        return
    with st.sidebar:
        _project_card(context)
        speaker_picker(context, key="sidebar")
        _coverage(context)
        _model_status(context)


def _project_card(context: Context) -> None:
    project = context.project
    assert project is not None
    st.markdown(f"### {display.text(project.name)}")
    details = [display.text(project.company)] if project.company else []
    details.append(context.t(f"language.{project.language.value}"))
    st.caption(" · ".join(details))
    if context.link_only:
        st.caption(context.t("access.link_mode"))
        return
    st.button(
        context.t("sidebar.change_project"),
        key="sidebar.change_project",
        icon=":material/swap_horiz:",
        type="tertiary",
        on_click=open_project,
        args=(None,),
    )


def speaker_picker(context: Context, *, key: str) -> None:
    """Choose who is speaking, or add a person; switching applies to the next answer."""
    st.markdown(f"**{context.t('speaker.title')}**")
    if context.stakeholders:
        ids = [s.id for s in context.stakeholders]
        current = context.speaker.id if context.speaker else None
        # The key follows the current speaker, so a change made elsewhere (a new person) shows here at once.
        widget_key = f"speaker.{key}.{current}"
        names = {s.id: f"{s.name} — {s.role}" if s.role else s.name for s in context.stakeholders}
        st.selectbox(
            context.t("speaker.choose"),
            ids,
            index=ids.index(current) if current else None,
            format_func=names.__getitem__,
            key=widget_key,
            placeholder=context.t("speaker.placeholder"),
            label_visibility="collapsed",
            on_change=lambda: choose_speaker(st.session_state[widget_key]),
        )
    with st.popover(context.t("speaker.add"), icon=":material/person_add:", width="stretch"):
        add_person_form(context, key=f"add.{key}")


def add_person_form(context: Context, *, key: str, submit_label: str | None = None) -> None:
    project = context.project
    assert project is not None
    with st.form(key, clear_on_submit=True, border=False):
        name = st.text_input(context.t("speaker.name"), max_chars=120, key=f"{key}.name")
        role = st.text_input(
            context.t("speaker.role"), max_chars=500, placeholder=context.t("speaker.role_help"), key=f"{key}.role"
        )
        if st.form_submit_button(submit_label or context.t("speaker.submit"), type="primary"):
            try:
                person = context.store.add_stakeholder(project.id, name, role)
            except CahierError as exc:
                st.error(str(exc))
                return
            choose_speaker(person.id)
            st.rerun()


def _coverage(context: Context) -> None:
    project = context.project
    assert project is not None
    coverage = context.services.interview.coverage(project.id)
    clear = sum(state is Coverage.CLEAR for state in coverage.values())
    partial = sum(state is Coverage.PARTIAL for state in coverage.values())
    st.markdown(f"**{context.t('coverage.title')}**")
    st.progress(
        (clear + partial / 2) / max(len(coverage), 1),
        text=context.tn("coverage.summary", clear, total=len(coverage)),
    )
    current = context.current_section
    lines = []
    for section, state in coverage.items():
        title = display.text(section_title(section, context.language))
        if section is current:
            lines.append(f"{coverage_icon(state)} **{title}** :blue-badge[{context.t('coverage.current')}]")
        else:
            lines.append(f"{coverage_icon(state)} {title}")
    st.markdown("  \n".join(lines))
    st.caption(context.t("coverage.legend"))


def _model_status(context: Context) -> None:
    status = context.services.model_status()
    colours = {"ready": "green", "starting": "orange", "failed": "red", "idle": "gray"}
    where = context.t("model.local" if status.local else "model.remote")
    key = f"provider.{status.provider}"
    provider = context.t(key) if has(key, context.language) else status.provider
    st.markdown(f"**{context.t('model.title')}**")
    st.markdown(f":{colours[status.state]}-badge[{context.t(f'model.{status.state}')}] {display.code(status.name)}")
    st.caption(f"{display.text(provider)} · {where}")
    if status.state == "failed":
        st.caption(display.text(context.t("model.failed_detail", error=status.error[:300])))
