"""Reading an answer with small jobs: clauses, cue words, labels, the wording call, and what the merge does with
needs said twice, corrected, disputed; facts; partial "don't know"; several budget lines and milestones."""

from datetime import UTC, date, datetime

import pytest

from assistant.interview.clauses import split_clauses
from assistant.interview.cues import (
    budget_line,
    horizon_cue,
    milestone,
    points_back,
    priority_cue,
    quality_cue,
    says_correction,
    says_dont_know,
)
from assistant.interview.labels import label_clauses
from assistant.interview.reading import read_answer
from assistant.interview.service import Interview
from assistant.models.testing import ScriptedChatModel, clause_need, clause_objective
from assistant.schemas import (
    ClauseKind,
    Conflict,
    Constraint,
    ConstraintKind,
    Fact,
    Horizon,
    Language,
    MoSCoW,
    NfrCategory,
    OpenQuestion,
    Requirement,
    RequirementKind,
    SectionId,
    SlotKey,
    Speaker,
    Turn,
)

MUST_HAVES = SlotKey(SectionId.NEEDS, "must_haves")


def _turn(text: str, language: Language = Language.FR) -> Turn:
    return Turn(
        id=7,
        project_id="p",
        speaker=Speaker.STAKEHOLDER,
        stakeholder_id="STK-001",
        text=text,
        language=language,
        created_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
    )


# -- clauses and cue words ------------------------------------------------------------------------------


def test_clauses_cut_at_sentences_semicolons_and_spoken_enumerations_not_at_decimals_or_titles():
    text = "M. Durand gère 7,4 M€ de ventes. Oui. Un : les devis ; Deux : la relance."
    assert [c.text for c in split_clauses(text)] == [
        "M. Durand gère 7,4 M€ de ventes.",
        "Oui. Un : les devis",  # too short to stand alone, "Oui." joins the next clause
        "Deux : la relance.",
    ]
    clauses = split_clauses("First, logins. Then, reports.")
    assert [(c.number, text[c.start : c.end]) for c in clauses][0][0] == 1
    assert all("First, logins. Then, reports."[c.start : c.end] == c.text for c in clauses)


def test_clauses_of_a_huge_answer_are_bounded():
    clauses = split_clauses(" ".join(f"Phrase numéro {n} de la réponse." for n in range(200)))
    assert len(clauses) == 30
    assert clauses[-1].text.endswith("numéro 199 de la réponse.")


@pytest.mark.parametrize(
    ("text", "moscow"),
    [
        ("Le suivi des devis, c'est indispensable.", MoSCoW.MUST),
        ("Ce point est non négociable.", MoSCoW.MUST),
        ("Offline mode is a must-have.", MoSCoW.MUST),
        ("Ce n'est pas indispensable.", MoSCoW.SHOULD),
        ("Ce serait bien, mais ça peut attendre.", MoSCoW.COULD),
        ("A Slack alert would be nice.", MoSCoW.COULD),
        ("Pas question de gérer la paie dans le CRM.", MoSCoW.WONT),
        ("Marketing automation is out of scope.", MoSCoW.WONT),
        ("Les commerciaux saisissent leurs visites.", None),
    ],
)
def test_priority_comes_from_the_stakeholders_words(text, moscow):
    assert priority_cue(text) is moscow


@pytest.mark.parametrize(
    ("text", "horizon"),
    [
        ("Indispensable dès le lot 1.", Horizon.SHORT),
        ("From day one.", Horizon.SHORT),
        ("Je la mets en phase 2, pas au lot 1.", Horizon.MEDIUM),
        ("In a year or two.", Horizon.MEDIUM),
        ("À plus long terme, relier l'e-learning.", Horizon.LONG),
        ("Ce n'est pas pour tout de suite.", Horizon.LONG),
        ("Le CRM doit gérer les devis.", None),
    ],
)
def test_horizon_comes_from_the_stakeholders_words(text, horizon):
    assert horizon_cue(text) is horizon


def test_other_cues_budget_lines_milestones_qualities_and_partial_dont_know():
    assert budget_line("Les licences coûtent 21 000 € HT par an.") == "licences"
    assert budget_line("La mise en place est à 52 000 € HT.") == "integration"
    assert budget_line("Le budget est de 80 k€.") is None
    assert milestone("Mise en service du lot 1 le 1er juin.") == "lot_1"
    assert milestone("Vendor proposals are due on 15 January.") == "supplier_reply"
    assert milestone("Le contrat actuel se termine fin mars.") == "contract_end"
    assert quality_cue("Les données doivent être hébergées en France.") is NfrCategory.PRIVACY
    assert quality_cue("Il faut que ce soit relié à Sage.") is NfrCategory.INTEGRATION
    assert quality_cue("Le CRM doit créer les devis.") is None
    assert says_dont_know("Le nombre de tickets, honnêtement, je ne sais pas.")
    assert not says_dont_know("Je sais exactement ce qu'il nous faut.")
    assert says_correction("Et je me corrige sur les convocations : sept jours.")
    assert points_back("Ces quatre points sont non négociables.") and not points_back("Le point clé, c'est le devis.")


def test_clear_clauses_get_their_label_without_a_model():
    clauses = split_clauses(
        "Nous sommes un grossiste en matériaux de 120 salariés, avec quatre agences en Bretagne. "
        "Aujourd'hui les commerciaux notent tout dans des fichiers Excel et perdent des relances. "
        "Il faut que le CRM relance automatiquement les devis sans réponse après quinze jours. "
        "Le budget est de 60 000 € HT pour la première année."
    )
    labels = label_clauses(clauses, Language.FR, date(2026, 11, 30))
    assert [labels[c.number].kind for c in clauses] == [
        ClauseKind.COMPANY,
        ClauseKind.SITUATION,
        ClauseKind.NEED,
        ClauseKind.CONSTRAINT,
    ]


# -- the reading ----------------------------------------------------------------------------------------

ANSWER = (
    "Aujourd'hui les commerciaux notent tout dans des fichiers Excel et perdent des relances. "
    "Il faut que le CRM relance automatiquement les devis sans réponse après quinze jours. "
    "C'est indispensable dès le lot 1."
)


def test_only_need_clauses_are_sent_and_priority_and_horizon_come_from_a_later_clause():
    model = ScriptedChatModel([clause_need("Le CRM doit relancer automatiquement les devis sans réponse.")])
    reading = read_answer(_turn(ANSWER), SlotKey(SectionId.FUNCTIONAL, "core"), model)
    [call] = model.calls
    assert call.schema == "ClauseNeed"
    sent = call.messages[-1].content
    assert "Proposition : Il faut que le CRM relance" in sent and "Excel" not in sent  # today's problem is no need
    [need] = reading.findings.requirements
    assert need.statement == "Le CRM doit relancer automatiquement les devis sans réponse."
    assert (need.moscow, need.moscow_stated, need.horizon) == (MoSCoW.MUST, True, Horizon.SHORT)
    assert need.kind is RequirementKind.FUNCTIONAL
    [fact] = reading.findings.facts
    assert fact.section is SectionId.DIAGNOSIS and fact.text.startswith("Aujourd'hui les commerciaux")


def test_a_wording_about_something_else_or_that_adds_a_negation_is_replaced_by_the_stakeholders_words():
    model = ScriptedChatModel(
        [clause_need("Le CRM doit gérer les stocks de l'entrepôt.", "Le CRM ne doit pas relancer les devis.")]
    )
    reading = read_answer(_turn(ANSWER), None, model)
    [need] = reading.findings.requirements
    assert need.statement.startswith("Le CRM doit permettre : il faut que le CRM relance automatiquement les devis")


def test_a_request_the_model_could_not_word_is_kept_in_the_stakeholders_words():
    text = "Il faut un suivi des devis. Il faut aussi l'accès mobile pour les itinérants."
    model = ScriptedChatModel(
        [clause_need("Le CRM doit assurer le suivi des devis."), clause_need("Le CRM doit gérer les stocks.")]
    )
    statements = [r.statement for r in read_answer(_turn(text), None, model).findings.requirements]
    assert [c.messages[-1].content.splitlines()[-1] for c in model.calls] == [
        "Proposition : Il faut un suivi des devis.",
        "Proposition : Il faut aussi l'accès mobile pour les itinérants.",
    ]
    assert statements[0] == "Le CRM doit assurer le suivi des devis."
    assert "l'accès mobile pour les itinérants" in statements[1]


def test_a_clause_that_asks_nothing_in_the_models_reading_nor_in_its_words_is_a_fact_about_today():
    text = "Il faut relancer les devis après dix jours. Le suivi des relances, c'est le nerf de la guerre."
    model = ScriptedChatModel([clause_need("Le CRM doit relancer les devis après dix jours."), clause_need()])
    found = read_answer(_turn(text), SlotKey(SectionId.FUNCTIONAL, "core"), model).findings
    assert len(model.calls) == 2  # both clauses were read as needs by the labels
    assert [r.statement for r in found.requirements] == ["Le CRM doit relancer les devis après dix jours."]
    assert [(f.section, f.text) for f in found.facts] == [
        (SectionId.DIAGNOSIS, "Le suivi des relances, c'est le nerf de la guerre.")
    ]


def test_an_answer_to_the_indispensable_question_is_must_unless_said_otherwise_and_a_rating_clause_is_no_need():
    text = (
        "Un : la signature électronique des devis. Deux : un mode hors ligne, ce serait bien. Ces deux points comptent."
    )
    model = ScriptedChatModel(
        [
            clause_need("Le CRM doit permettre la signature électronique des devis."),
            clause_need("Le CRM doit fonctionner hors ligne."),
        ]
    )
    needs = read_answer(_turn(text), MUST_HAVES, model).findings.requirements
    assert [(n.moscow, n.moscow_stated) for n in needs] == [(MoSCoW.MUST, False), (MoSCoW.COULD, True)]
    assert needs[1].category is NfrCategory.AVAILABILITY and needs[1].kind is RequirementKind.NON_FUNCTIONAL
    assert len(model.calls) == 2  # the rating clause is not read


def test_a_budget_said_as_a_need_is_the_budget_and_no_model_is_asked():
    text = "Il faut que le CRM tienne dans un budget de 240 000 euros HT, licences et intégrateur compris."
    model = ScriptedChatModel()
    found = read_answer(_turn(text), SlotKey(SectionId.BUDGET, "amount"), model).findings
    assert found.requirements == [] and model.calls == []
    [budget] = found.constraints
    assert budget.kind is ConstraintKind.BUDGET and budget.amount_text == text


def test_objectives_keep_only_the_values_their_clause_says():
    text = "Notre objectif est de passer de 18 % à 25 % de devis signés d'ici fin 2027."
    model = ScriptedChatModel(
        [
            clause_objective(
                "Augmenter le taux de signature des devis.",
                metric="taux de signature",
                baseline="18 %",
                target="30 %",
                deadline_text="unknown",
            )
        ]
    )
    [objective] = read_answer(_turn(text), SlotKey(SectionId.OBJECTIVES, "measurable"), model).findings.objectives
    assert (objective.baseline, objective.target, objective.deadline_text) == ("18 %", None, None)


def test_an_english_answer_is_worded_in_english():
    text = "We need the CRM to log every call automatically."
    model = ScriptedChatModel([clause_need("Log every call automatically.")])
    [need] = read_answer(_turn(text, Language.EN), None, model).findings.requirements
    assert need.statement == "The CRM shall log every call automatically."
    assert "Task: needs" in model.calls[0].messages[-1].content


# -- the merge ------------------------------------------------------------------------------------------


@pytest.fixture
def setup(store):
    project = store.create_project("CRM Acme", language="fr")
    alice = store.add_stakeholder(project.id, "Alice", "Responsable administration")
    bob = store.add_stakeholder(project.id, "Bob", "Directeur général")
    model = ScriptedChatModel()
    interview = Interview(store, model, clock=lambda: datetime(2026, 11, 30, 9, tzinfo=UTC))
    yield store, project, alice, bob, model, interview
    interview.close()


def _say(interview, project, person, text, slot="needs.must_haves"):
    interview.ask(project.id, "Question ?", slot=slot)
    turn = interview.record_answer(project.id, person.id, text)
    assert interview.wait(project.id, turn.id, timeout=30)
    assert interview.extraction_status(project.id, turn.id) == "done"
    return turn


def test_a_need_said_again_by_someone_else_with_another_horizon_opens_a_conflict_on_the_requirement(setup):
    store, project, alice, bob, model, interview = setup
    model.push(clause_need("Le CRM doit importer automatiquement les inscriptions depuis EDOF."))
    first = _say(interview, project, alice, "Il faut importer les inscriptions depuis EDOF dès le lot 1.")
    model.push(clause_need("Le CRM doit importer automatiquement les inscriptions depuis EDOF."))
    second = _say(interview, project, bob, "L'import des inscriptions depuis EDOF, je le mets en phase 2.")
    [requirement] = store.list_objects(project.id, Requirement)
    assert requirement.horizon is Horizon.SHORT  # the first position stays until someone settles it
    assert requirement.source_turn_ids == [first.id, second.id]
    [conflict] = store.list_objects(project.id, Conflict)
    assert conflict.object_ids == [requirement.id]
    assert [(s.stakeholder_id, s.turn_id) for s in conflict.statements] == [(alice.id, first.id), (bob.id, second.id)]


def test_a_correction_of_a_requirement_updates_it_with_history_and_opens_no_conflict(setup):
    store, project, alice, _, model, interview = setup
    model.push(clause_need("Le CRM doit envoyer les convocations dix jours avant la session."))
    _say(interview, project, alice, "Il faut envoyer les convocations dix jours avant la session.")
    model.push(clause_need("Le CRM doit envoyer les convocations sept jours avant la session."))
    _say(interview, project, alice, "Je me corrige : il faut envoyer les convocations sept jours avant la session.")
    [requirement] = store.list_objects(project.id, Requirement)
    assert requirement.statement == "Le CRM doit envoyer les convocations sept jours avant la session."
    history = [v.data["statement"] for v in store.object_history(project.id, requirement.id)]
    assert history[0].endswith("dix jours avant la session.") and len(history) == 2
    assert store.list_objects(project.id, Conflict) == []


def test_facts_partial_dont_know_and_budget_lines_come_from_one_answer_with_no_model_call(setup):
    store, project, alice, _, model, interview = setup
    text = (
        "Nous sommes une coopérative de 300 adhérents dans le Gers. "
        "Le nombre exact de contacts, honnêtement, je ne sais pas. "
        "Les licences coûtent 21 000 € HT par an. "
        "La mise en place est budgétée à 45 000 € HT."
    )
    _say(interview, project, alice, text, slot="budget.amount")
    assert model.calls == []
    facts = store.list_objects(project.id, Fact)
    assert [f.section for f in facts] == [SectionId.COMPANY, SectionId.DATA]  # what is said of the data is a fact too
    assert facts[0].stakeholder_ids == [alice.id]
    [question] = store.list_objects(project.id, OpenQuestion)
    assert "je ne sais pas" in question.question and question.slot == SlotKey(SectionId.BUDGET, "amount")
    budgets = store.list_objects(project.id, Constraint)
    assert [(c.kind, c.money.amount if c.money else None) for c in budgets] == [
        (ConstraintKind.BUDGET, 21000),
        (ConstraintKind.BUDGET, 45000),
    ]
    _say(interview, project, alice, "En fait, la mise en place sera à 52 000 € HT.", slot="budget.amount")
    amounts = sorted(c.money.amount for c in store.list_objects(project.id, Constraint) if c.money)
    assert amounts == [21000, 52000]  # the integration line is corrected, the licences line is untouched
