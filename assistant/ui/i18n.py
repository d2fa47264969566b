"""Every word the app shows, in French and English; the project's language picks one.

Enum values (priorities, states, kinds…) reuse the labels of the draft templates, so the app and the document
always say the same thing.
"""

from __future__ import annotations

from enum import StrEnum

from assistant.draft_template import template_for
from assistant.interview import Coverage
from assistant.plan import default_plan
from assistant.schemas import Language, SectionId

STRINGS: dict[str, tuple[str, str]] = {
    # -- shell and navigation
    "app.tagline": (
        "Des entretiens avec vos parties prenantes au cahier des charges CRM relu et validé.",
        "From stakeholder interviews to a reviewed, approved CRM specification.",
    ),
    "nav.projects": ("Projets", "Projects"),
    "nav.chat": ("Entretien", "Interview"),
    "nav.requirements": ("Exigences", "Requirements"),
    "nav.draft": ("Brouillon", "Draft"),
    "nav.export": ("Export", "Export"),
    "nav.settings": ("Réglages", "Settings"),
    "config.error": (
        "Cahier ne peut pas démarrer : {error}",
        "Cahier cannot start: {error}",
    ),
    "project.missing": (
        "Le projet `{id}` n'existe pas (ou plus) dans cette base. Choisissez un autre projet.",
        "Project `{id}` does not exist (any more) in this database. Choose another project.",
    ),
    "project.needed": (
        "Ouvrez ou créez d'abord un projet.",
        "Open or create a project first.",
    ),
    "project.go": ("Aller aux projets", "Go to projects"),
    # -- projects page
    "projects.title": ("Vos projets", "Your projects"),
    "projects.none": (
        "Aucun projet pour l'instant : créez le premier à droite.",
        "No project yet: create the first one on the right.",
    ),
    "projects.open": ("Ouvrir", "Open"),
    "projects.current": ("Projet ouvert", "Open project"),
    "projects.turns": ("{count} message(s)", "{count} message(s)"),
    "projects.new": ("Nouveau projet", "New project"),
    "projects.name": ("Nom du projet", "Project name"),
    "projects.name_help": ("Par exemple « CRM 2027 »", "For example “CRM 2027”"),
    "projects.company": ("Entreprise", "Company"),
    "projects.language": ("Langue de l'entretien et du document", "Language of the interview and the document"),
    "projects.create": ("Créer et commencer l'entretien", "Create and start the interview"),
    "projects.ui_language": ("Langue de l'interface", "Interface language"),
    "language.fr": ("Français", "French"),
    "language.en": ("Anglais", "English"),
    # -- sidebar
    "sidebar.change_project": ("Changer de projet", "Change project"),
    "speaker.title": ("Qui répond ?", "Who is answering?"),
    "speaker.choose": ("Personne interrogée", "Person answering"),
    "speaker.placeholder": ("Choisissez une personne", "Choose a person"),
    "speaker.add": ("Ajouter une personne", "Add a person"),
    "speaker.name": ("Nom", "Name"),
    "speaker.role": ("Rôle", "Role"),
    "speaker.role_help": ("Par exemple « Directrice commerciale »", "For example “Sales director”"),
    "speaker.submit": ("Ajouter", "Add"),
    "speaker.first": (
        "Avant la première réponse, dites-nous qui parle : le nom et le rôle de chaque personne accompagnent ses "
        "réponses dans le cahier des charges.",
        "Before the first answer, tell us who is speaking: each person's name and role travel with their answers "
        "into the specification.",
    ),
    "speaker.start": ("Commencer", "Start"),
    "coverage.title": ("Couverture du cahier des charges", "Specification coverage"),
    "coverage.summary": ("{clear} section(s) complète(s) sur {total}", "{clear} of {total} section(s) complete"),
    "coverage.current": ("en cours", "current"),
    "coverage.legend": (
        ":green[:material/check_circle:] complète · :orange[:material/clock_loader_40:] partielle · "
        ":gray[:material/radio_button_unchecked:] à faire",
        ":green[:material/check_circle:] complete · :orange[:material/clock_loader_40:] partial · "
        ":gray[:material/radio_button_unchecked:] to do",
    ),
    "model.title": ("Modèle", "Model"),
    "provider.local": ("modèle intégré", "embedded model"),
    "provider.openai": ("OpenAI", "OpenAI"),
    "provider.openai_compatible": ("serveur compatible OpenAI", "OpenAI-compatible server"),
    "provider.scripted": ("modèle simulé (tests)", "scripted model (tests)"),
    "model.local": ("local, sur cette machine", "local, on this machine"),
    "model.remote": ("distant", "remote"),
    "model.ready": ("prêt", "ready"),
    "model.starting": ("démarrage en cours…", "starting…"),
    "model.failed": ("indisponible", "unavailable"),
    "model.idle": ("démarre à la première réponse", "starts with the first answer"),
    "model.failed_detail": (
        "Le modèle ne répond pas : {error}. Les réponses restent enregistrées et les questions suivent le plan.",
        "The model is not answering: {error}. Answers are still saved and questions follow the plan.",
    ),
    # -- chat
    "chat.you": ("Vous", "You"),
    "chat.input": ("Votre réponse…", "Your answer…"),
    "chat.input_disabled": ("Choisissez d'abord qui répond", "Choose who is answering first"),
    "chat.skip": ("Passer", "Skip"),
    "chat.dont_know": ("Je ne sais pas", "I don't know"),
    "chat.suggestions": ("Réponses suggérées", "Suggested answers"),
    "chat.guidance": ("Bonnes pratiques consultées", "Guidance consulted"),
    "chat.guidance_none": (
        "Aucune fiche de bonnes pratiques pour cette question.",
        "No guidance document for this question.",
    ),
    "chat.guidance_empty_index": (
        "Les fiches de bonnes pratiques ne sont pas encore indexées : lancez `cahier ingest`.",
        "The guidance documents are not indexed yet: run `cahier ingest`.",
    ),
    "chat.guidance_unavailable": (
        "L'index des bonnes pratiques est indisponible ; l'entretien continue sans.",
        "The guidance index is unavailable; the interview goes on without it.",
    ),
    "chat.analysing": ("Analyse de la réponse…", "Analysing the answer…"),
    "chat.understood": ("Ce que j'ai compris", "What I understood"),
    "chat.nothing_new": ("Rien de nouveau à ajouter au cahier des charges.", "Nothing new for the specification."),
    "chat.off_topic": (
        "La réponse ne semble pas traiter la question ; elle sera reposée plus tard.",
        "The answer does not seem to address the question; it will be asked again later.",
    ),
    "chat.created": ("Ajouté", "Added"),
    "chat.updated": ("Complété", "Updated"),
    "chat.conflict": ("À arbitrer", "To settle"),
    "chat.failed": (
        "Le modèle a échoué sur cette réponse : elle est bien enregistrée, et la question suivante vient du plan "
        "d'entretien. Elle pourra être réanalysée plus tard (`cahier reextract`).",
        "The model failed on this answer: the answer is saved, and the next question came from the interview "
        "plan. It can be analysed again later (`cahier reextract`).",
    ),
    "chat.failure.timeout": (
        "Cause : le modèle n'a pas répondu dans le délai imparti.",
        "Cause: the model did not answer in time.",
    ),
    "chat.failure.server": (
        "Cause : le serveur du modèle a répondu par une erreur.",
        "Cause: the model server answered with an error.",
    ),
    "chat.failure.unreachable": (
        "Cause : le serveur du modèle est injoignable.",
        "Cause: the model server cannot be reached.",
    ),
    "chat.failure.auth": (
        "Cause : le serveur du modèle a refusé la clé d'API.",
        "Cause: the model server refused the API key.",
    ),
    "chat.failure.invalid": (
        "Cause : la réponse du modèle ne respectait pas le format attendu.",
        "Cause: the model's answer did not fit the expected format.",
    ),
    "chat.failure.truncated": (
        "Cause : la réponse du modèle a été coupée à la limite de longueur.",
        "Cause: the model's answer was cut off at the length limit.",
    ),
    "chat.failure.other": ("Cause : erreur du modèle.", "Cause: a model error."),
    "chat.skipped": ("Question notée comme ouverte.", "Question kept open."),
    "chat.error": ("Réponse non enregistrée : {error}", "Answer not saved: {error}"),
    "chat.done": (
        "Toutes les sections sont couvertes : relisez le brouillon.",
        "Every section is covered: review the draft.",
    ),
    # -- requirements
    "req.title": ("Exigences", "Requirements"),
    "req.tab_list": ("Exigences ({count})", "Requirements ({count})"),
    "req.tab_quality": ("Qualité", "Quality"),
    "req.tab_conflicts": ("Points à arbitrer ({count})", "Conflicts ({count})"),
    "req.tab_questions": ("Questions ouvertes ({count})", "Open questions ({count})"),
    "req.none": (
        "Aucune exigence pour l'instant : elles apparaissent au fil de l'entretien.",
        "No requirement yet: they appear as the interview goes on.",
    ),
    "req.none_filtered": ("Aucune exigence ne correspond aux filtres.", "No requirement matches the filters."),
    "req.filter_section": ("Section", "Section"),
    "req.filter_stakeholder": ("Personne", "Person"),
    "req.filter_status": ("Statut", "Status"),
    "req.col_id": ("ID", "ID"),
    "req.col_statement": ("Exigence", "Requirement"),
    "req.col_kind": ("Type", "Type"),
    "req.col_category": ("Catégorie", "Category"),
    "req.col_moscow": ("Priorité", "Priority"),
    "req.col_horizon": ("Horizon", "Horizon"),
    "req.col_status": ("Statut", "Status"),
    "req.col_score": ("Qualité", "Quality"),
    "req.col_source": ("Source", "Source"),
    "req.col_version": ("Version", "Version"),
    "req.save": ("Enregistrer les modifications", "Save changes"),
    "req.reload": ("Recharger", "Reload"),
    "req.pending": ("{count} ligne(s) modifiée(s), non enregistrée(s).", "{count} edited row(s), not saved yet."),
    "req.saved": ("{count} exigence(s) enregistrée(s).", "{count} requirement(s) saved."),
    "req.nothing_to_save": ("Aucune modification à enregistrer.", "No change to save."),
    "req.stale": (
        "{id} a été modifiée par quelqu'un d'autre depuis l'ouverture du tableau (vous avez modifié la version "
        "{expected}, la version enregistrée est maintenant la {actual}). Rechargez pour voir sa modification, puis "
        "refaites la vôtre.",
        "{id} was changed by someone else since you opened the table (you edited version {expected}; the stored "
        "one is now version {actual}). Reload to see their change, then apply yours again.",
    ),
    "req.theirs": (
        "Version enregistrée : v{version} par {author} : « {statement} ».",
        "Stored version: v{version} by {author}: “{statement}”.",
    ),
    "req.invalid": ("{id} n'a pas été enregistrée : {error}", "{id} was not saved: {error}"),
    "req.metric_total": ("Exigences", "Requirements"),
    "req.metric_must": ("Indispensables", "Must-haves"),
    "req.metric_quality": ("Qualité moyenne", "Average quality"),
    "req.quality_intro": (
        "Chaque exigence est relue selon les règles INCOSE / ISO 29148 : les mots en cause sont surlignés, avec "
        "une piste de correction.",
        "Each requirement is checked against INCOSE / ISO 29148 rules: the offending words are highlighted, with "
        "a hint to fix them.",
    ),
    "req.quality_clean": ("Aucun défaut relevé.", "No issue found."),
    "req.suggestion": ("Reformulation possible", "Possible rewrite"),
    "req.quality_hint": ("Piste", "Hint"),
    "severity.error": ("Erreur", "Error"),
    "severity.warning": ("Attention", "Warning"),
    "severity.info": ("Remarque", "Note"),
    "conflicts.none": ("Aucun point à arbitrer.", "Nothing to settle."),
    "conflicts.said": ("{who} : « {text} »", "{who}: “{text}”"),
    "conflicts.resolution": ("Décision", "Decision"),
    "conflicts.resolution_help": (
        "Ce qui a été décidé, par exemple « Budget retenu : 80 k€ HT »",
        "What was decided, for example “Budget: €80k excl. VAT”",
    ),
    "conflicts.resolve": ("Marquer comme arbitré", "Mark as settled"),
    "conflicts.resolved": ("Arbitrés ({count})", "Settled ({count})"),
    "questions.none": ("Aucune question ouverte.", "No open question."),
    "questions.answer": ("Réponse", "Answer"),
    "questions.resolve": ("Marquer comme répondue", "Mark as answered"),
    "questions.resolved": ("Répondues ({count})", "Answered ({count})"),
    "resolve.empty": ("Écrivez d'abord la décision ou la réponse.", "Write the decision or answer first."),
    "resolve.done": ("{id} est réglé.", "{id} is settled."),
    # -- draft
    "draft.title": ("Brouillon du cahier des charges", "Specification draft"),
    "draft.intro": (
        "Chaque section suit les réponses tant que personne ne l'a modifiée. Une section modifiée ou approuvée "
        "n'est jamais réécrite : les nouveautés arrivent sous forme de proposition à accepter ou écarter.",
        "Each section follows the answers until someone edits it. An edited or approved section is never "
        "rewritten: new material arrives as a proposal to accept or dismiss.",
    ),
    "draft.unavailable": (
        "La relecture du brouillon n'est pas disponible dans cette version.",
        "Draft review is not available in this version.",
    ),
    "draft.progress": ("{approved} section(s) approuvée(s) sur {total}", "{approved} of {total} section(s) approved"),
    "draft.changes": ("modifications disponibles", "changes available"),
    "draft.edit": ("Modifier", "Edit"),
    "draft.save": ("Enregistrer le texte", "Save text"),
    "draft.cancel": ("Annuler", "Cancel"),
    "draft.approve": ("Approuver", "Approve"),
    "draft.approved_by": ("Approuvée par {author}", "Approved by {author}"),
    "draft.proposal": ("Proposition issue des nouvelles réponses", "Proposal from new answers"),
    "draft.accept": ("Accepter la proposition", "Accept proposal"),
    "draft.dismiss": ("Écarter", "Dismiss"),
    "draft.history": ("Historique", "History"),
    "draft.history_row": ("v{version} · {event} · {author} · {date}", "v{version} · {event} · {author} · {date}"),
    "draft.restore": ("Restaurer la v{version}", "Restore v{version}"),
    "draft.stale": (
        "Cette section a changé depuis son affichage (version {expected} → {actual}) : relisez-la puis recommencez.",
        "This section changed since it was shown (version {expected} → {actual}): read it again, then retry.",
    ),
    "draft.theirs": (
        "Version enregistrée entre-temps : v{version} ({state}) par {author}, le {date}. Votre texte est resté dans "
        "l'éditeur : reprenez-y ce qu'il faut garder de cette version, puis enregistrez à nouveau.",
        "Version saved in the meantime: v{version} ({state}) by {author}, on {date}. Your text is still in the "
        "editor: bring over what should stay from this version, then save again.",
    ),
    "draft.error": ("Action refusée : {error}", "Action refused: {error}"),
    "draft.event.generated": ("générée", "generated"),
    "draft.event.edited": ("modifiée", "edited"),
    "draft.event.approved": ("approuvée", "approved"),
    "draft.event.proposed": ("proposition", "proposal"),
    "draft.event.accepted": ("proposition acceptée", "proposal accepted"),
    "draft.event.dismissed": ("proposition écartée", "proposal dismissed"),
    "draft.event.withdrawn": ("proposition retirée", "proposal withdrawn"),
    "draft.event.restored": ("version restaurée", "version restored"),
    # -- export
    "export.title": ("Exporter", "Export"),
    "export.intro": (
        "Les mêmes fichiers que la commande `cahier export`.",
        "The same files as the `cahier export` command.",
    ),
    "export.download": ("Télécharger", "Download"),
    "export.failed": ("Cet export a échoué : {error}", "This export failed: {error}"),
    "export.json": (
        "Le projet complet (réponses, versions, historique), réimportable avec `cahier import`.",
        "The whole project (answers, versions, history), restorable with `cahier import`.",
    ),
    "export.md": ("Le cahier des charges en Markdown.", "The specification as Markdown."),
    "export.docx": ("Le cahier des charges au format Word.", "The specification as a Word document."),
    "export.pdf": ("Le cahier des charges en PDF, prêt à diffuser.", "The specification as a PDF, ready to send."),
    "export.csv": ("Les exigences en CSV (import Jira).", "The requirements as CSV (Jira import)."),
    "export.reqif": ("Les exigences au format ReqIF.", "The requirements as ReqIF."),
    # -- settings
    "settings.title": ("Réglages", "Settings"),
    "settings.model": ("Modèle de langue", "Language model"),
    "settings.current": ("En service : {name} ({provider}, {where})", "In use: {name} ({provider}, {where})"),
    "settings.provider": ("Fournisseur", "Provider"),
    "settings.provider.local": ("Modèle intégré (local)", "Embedded model (local)"),
    "settings.provider.openai": ("OpenAI", "OpenAI"),
    "settings.provider.openai_compatible": (
        "Serveur compatible OpenAI (vLLM, Ollama, LM Studio…)",
        "OpenAI-compatible server (vLLM, Ollama, LM Studio…)",
    ),
    "settings.model_name": ("Nom du modèle", "Model name"),
    "settings.base_url": ("URL du serveur", "Server URL"),
    "settings.key": ("Clé d'API", "API key"),
    "settings.key_help": (
        "Gardée uniquement dans la mémoire de cette session : jamais écrite sur disque ni journalisée.",
        "Kept only in this session's memory: never written to disk or logged.",
    ),
    "settings.test": ("Tester la connexion", "Test connection"),
    "settings.use": ("Utiliser pour cette session", "Use for this session"),
    "settings.reset": ("Revenir au modèle configuré", "Back to the configured model"),
    "settings.test_ok": (
        "Connexion réussie : le modèle a répondu en {ms} ms.",
        "Connected: the model answered in {ms} ms.",
    ),
    "settings.test_failed": ("Échec de la connexion : {error}", "Connection failed: {error}"),
    "settings.testing": ("Appel du modèle…", "Calling the model…"),
    "settings.using": (
        "Cette session utilise {name}. Les autres sessions gardent le modèle configuré.",
        "This session uses {name}. Other sessions keep the configured model.",
    ),
    "settings.local_note": (
        "Le modèle intégré se configure par variables d'environnement (`CAHIER_MODEL_PROVIDER`) ; rien à saisir ici.",
        "The embedded model is configured with environment variables (`CAHIER_MODEL_PROVIDER`); nothing to type here.",
    ),
    "settings.env_note": (
        "Pour un réglage permanent, utilisez les variables d'environnement (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, "
        "`CAHIER_MODEL`) ou un fichier `.env`.",
        "For a permanent setting, use environment variables (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `CAHIER_MODEL`) "
        "or a `.env` file.",
    ),
    "settings.needs_url": ("Indiquez l'URL du serveur.", "Give the server URL."),
    "settings.needs_key": ("Indiquez une clé d'API.", "Give an API key."),
    "settings.project": ("Projet", "Project"),
    "settings.plan_language": (
        "Langue de l'entretien (questions, brouillon, interface)",
        "Interview language (questions, draft, interface)",
    ),
    "settings.save_project": ("Enregistrer le projet", "Save project"),
    "settings.project_saved": ("Projet enregistré.", "Project saved."),
    "settings.data": ("Données", "Data"),
    "settings.data_dir": ("Dossier des données", "Data folder"),
    "settings.database": ("Base de données", "Database"),
    "settings.index": ("Index des bonnes pratiques", "Guidance index"),
    "settings.index_count": ("{count} passage(s) indexé(s)", "{count} indexed passage(s)"),
    "settings.index_missing": ("indisponible : {error}", "unavailable: {error}"),
    # -- access codes, stakeholder links and deletion
    "access.locked_title": ("Projet protégé", "Protected project"),
    "access.locked_intro": (
        "Le projet `{id}` est protégé par un code d'accès : saisissez-le pour l'ouvrir.",
        "Project `{id}` is protected by an access code: type it to open the project.",
    ),
    "access.code": ("Code d'accès", "Access code"),
    "access.unlock": ("Déverrouiller", "Unlock"),
    "access.wrong_code": ("Code d'accès incorrect.", "Wrong access code."),
    "access.too_many": (
        "Trop de codes incorrects pour ce projet : réessayez dans {minutes} minute(s).",
        "Too many wrong codes for this project: try again in {minutes} minute(s).",
    ),
    "access.other_project": ("Choisir un autre projet", "Choose another project"),
    "access.bad_link": (
        "Ce lien ne fonctionne pas (révoqué ou incomplet) : demandez-en un nouveau.",
        "This link does not work (revoked or incomplete): ask for a new one.",
    ),
    "access.link_mode": (
        "Accès par lien : lire l'entretien et répondre.",
        "Link access: read the interview and answer.",
    ),
    "chat.done_link": (
        "Toutes les sections sont couvertes : merci pour vos réponses !",
        "Every section is covered: thank you for your answers!",
    ),
    "projects.locked": ("Projet protégé", "Protected project"),
    "projects.unlock": ("Déverrouiller", "Unlock"),
    "settings.access": ("Code d'accès et liens", "Access code and links"),
    "settings.access_on": (
        "Ce projet est protégé : sans son code, ni l'application ni la ligne de commande ne montrent son nom ni "
        "son contenu.",
        "This project is protected: without its code, neither the app nor the command line shows its name or content.",
    ),
    "settings.access_off": (
        "Ce projet n'est pas protégé : toute personne qui accède à l'application peut l'ouvrir.",
        "This project is not protected: anyone who reaches the app can open it.",
    ),
    "settings.current_code": ("Code actuel", "Current code"),
    "settings.new_code": ("Nouveau code", "New code"),
    "settings.new_code_again": ("Nouveau code, une seconde fois", "New code, once more"),
    "settings.code_help": (
        "De {min} à {max} caractères. Il est conservé haché (argon2id), jamais en clair.",
        "{min} to {max} characters. It is stored hashed (argon2id), never in clear.",
    ),
    "settings.save_code": ("Enregistrer le code", "Save code"),
    "settings.remove_code": ("Retirer le code", "Remove code"),
    "settings.codes_differ": ("Les deux saisies du nouveau code diffèrent.", "The two entries of the new code differ."),
    "settings.code_invalid": (
        "Le code doit compter de {min} à {max} caractères.",
        "The code must have {min} to {max} characters.",
    ),
    "settings.code_saved": ("Code d'accès enregistré.", "Access code saved."),
    "settings.code_removed": (
        "Code d'accès retiré : le projet est ouvert à tous et ses liens sont révoqués.",
        "Access code removed: the project is open to anyone and its links are revoked.",
    ),
    "settings.links": ("Liens pour les parties prenantes", "Stakeholder links"),
    "settings.links_intro": (
        "Un lien ouvre seulement la page d'entretien (lire la conversation et répondre), sans export, réglages ni "
        "brouillon. Liens actifs : {count}.",
        "A link opens the interview page only (read the conversation and answer), with no export, settings or "
        "draft. Active links: {count}.",
    ),
    "settings.create_link": ("Créer un lien", "Create a link"),
    "settings.revoke_links": ("Révoquer tous les liens", "Revoke every link"),
    "settings.link_made": (
        "Lien créé : ajoutez ceci à l'adresse de l'application. Il ne sera plus affiché.",
        "Link created: add this to the app's address. It will not be shown again.",
    ),
    "settings.links_revoked": ("{count} lien(s) révoqué(s).", "{count} link(s) revoked."),
    "settings.delete": ("Supprimer le projet", "Delete the project"),
    "settings.delete_intro": (
        "Efface de la base le projet et tout ce qui lui appartient : réponses, exigences et leurs versions, "
        "brouillon, code d'accès et liens. Exportez-le d'abord en JSON pour pouvoir le réimporter.",
        "Erases the project and everything it owns from the database: answers, requirements and their versions, "
        "draft, access code and links. Export it as JSON first to be able to import it again.",
    ),
    "settings.delete_confirm": (
        "Je confirme la suppression définitive de ce projet",
        "I confirm deleting this project for good",
    ),
    "settings.delete_button": ("Supprimer définitivement", "Delete for good"),
    "settings.delete_unconfirmed": ("Cochez d'abord la confirmation.", "Tick the confirmation first."),
    "settings.deleted": ("Projet `{id}` supprimé.", "Project `{id}` deleted."),
}

_COVERAGE_ICONS = {
    # Material icons rather than emoji: they render the same in every browser, fonts or not.
    Coverage.CLEAR: ":green[:material/check_circle:]",
    Coverage.PARTIAL: ":orange[:material/clock_loader_40:]",
    Coverage.MISSING: ":gray[:material/radio_button_unchecked:]",
}
_COVERAGE_LABELS = {
    Coverage.CLEAR: ("complète", "complete"),
    Coverage.PARTIAL: ("partielle", "partial"),
    Coverage.MISSING: ("à faire", "to do"),
}


def _index(language: Language | str) -> int:
    return 0 if Language(language) is Language.FR else 1


def t(key: str, language: Language | str, **values: object) -> str:
    """The text of `key` in `language`, with `{placeholders}` filled from `values`.

    Raises:
        KeyError: `key` is not in `STRINGS` (a typo must fail the AppTest run, not show a raw key).
    """
    text = STRINGS[key][_index(language)]
    return text.format(**values) if values else text


def label(member: StrEnum, language: Language | str) -> str:
    """An enum value as the document prints it (e.g. `MoSCoW.MUST` → "Indispensable (Must)")."""
    return template_for(Language(language)).label(member)


def section_title(section: SectionId | str, language: Language | str) -> str:
    return default_plan().section(section).title.in_(language)


def coverage_icon(state: Coverage) -> str:
    return _COVERAGE_ICONS[state]


def coverage_label(state: Coverage, language: Language | str) -> str:
    return _COVERAGE_LABELS[state][_index(language)]
