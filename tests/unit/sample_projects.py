"""Two small but complete projects, one French and one English, for the draft and export tests.

They hold every kind of object, a requirement whose statement tries to break Markdown, HTML and spreadsheets,
incomplete objects (so that "still needed" lines appear), and stakeholders with a conflict.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from assistant.schemas import (
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    DatePrecision,
    DateValue,
    Horizon,
    Level,
    Money,
    MoSCoW,
    NfrCategory,
    Objective,
    OpenQuestion,
    Provenance,
    Requirement,
    RequirementKind,
    RequirementStatus,
    Risk,
    SectionId,
    Speaker,
    TaxBasis,
    Tracked,
    UseCase,
)
from assistant.store import Store

HOSTILE_STATEMENT = (
    "Le CRM doit exporter les contacts | comptes en *CSV* <script>alert('x')</script> & [lien](http://x)"
)
"""A statement with a table pipe, emphasis, a script tag, an entity start and a link."""

FORMULA_STATEMENT = '=HYPERLINK("http://evil.example","clic") doit être neutralisé dans un tableur'


def _save(store: Store, project_id: str, *objects: Tracked) -> None:
    for obj in objects:
        store.save_object(project_id, obj, changed_by="test")


def build_french_project(store: Store) -> str:
    """The French fixture project; returns its id."""
    project = store.create_project("CRM Novelia 2027", language="fr", company="Novelia Distribution")
    pid = project.id
    alice = store.add_stakeholder(pid, "Alice Martin", "Directrice commerciale")
    bruno = store.add_stakeholder(pid, "Bruno Leroy", "DSI")
    for text in [
        "Nous sommes un grossiste B2B de 180 salariés.",
        "Les commerciaux veulent l'historique client sur mobile.",
        "Le budget est de 80 k€ HT, mise en production au deuxième trimestre 2027.",
        "La mobilité n'est pas prioritaire pour la DSI.",
    ]:
        store.append_turn(pid, Speaker.STAKEHOLDER, text, "fr", stakeholder_id=alice.id)
    _save(
        store,
        pid,
        Requirement(
            id="REQ-001",
            statement="Novelia Distribution est un grossiste B2B de 180 salariés présent en France et en Belgique",
            section=SectionId.COMPANY,
            source_turn_ids=[1],
        ),
        Requirement(
            id="REQ-002",
            statement="Le projet s'inscrit dans le programme de transformation numérique 2026-2028.",
            section=SectionId.CONTEXT,
            source_turn_ids=[3],
        ),
        Requirement(
            id="REQ-003",
            statement="Les commerciaux doivent consulter l'historique client depuis leur téléphone.",
            section=SectionId.NEEDS,
            moscow=MoSCoW.MUST,
            horizon=Horizon.SHORT,
            source_turn_ids=[2],
            stakeholder_ids=[alice.id],
        ),
        Requirement(
            id="REQ-004",
            statement="Le service client doit suivre les réclamations dans le CRM.",
            section=SectionId.NEEDS,
            moscow=MoSCoW.SHOULD,
            horizon=Horizon.MEDIUM,
            source_turn_ids=[2],
        ),
        Requirement(
            id="REQ-005",
            statement="Le marketing pourrait segmenter les clients selon leur valeur vie client (VVC).",
            section=SectionId.NEEDS,
            moscow=MoSCoW.COULD,
            provenance=Provenance.INFERRED,
        ),
        Requirement(
            id="REQ-006",
            statement=HOSTILE_STATEMENT,
            section=SectionId.FUNCTIONAL,
            moscow=MoSCoW.MUST,
            status=RequirementStatus.ACCEPTED,
            rationale="Les équipes échangent leurs fichiers avec le PIM.",
            acceptance_criteria=["Un export de 10 000 contacts se termine en moins de 30 s."],
            source_turn_ids=[2, 4],
        ),
        Requirement(
            id="REQ-007",
            statement=FORMULA_STATEMENT,
            section=SectionId.FUNCTIONAL,
            moscow=MoSCoW.COULD,
        ),
        Requirement(
            id="REQ-008",
            statement="Le CRM doit imprimer des fax.",
            section=SectionId.FUNCTIONAL,
            moscow=MoSCoW.WONT,
            status=RequirementStatus.REJECTED,
        ),
        Requirement(
            id="REQ-009",
            statement="Les données clients doivent être hébergées dans l'UE, conformément au RGPD.",
            section=SectionId.NON_FUNCTIONAL,
            kind=RequirementKind.NON_FUNCTIONAL,
            category=NfrCategory.PRIVACY,
            moscow=MoSCoW.MUST,
            horizon=Horizon.SHORT,
            provenance=Provenance.INFERRED,
            source_turn_ids=[3],
        ),
        Objective(
            id="OBJ-001",
            statement="Augmenter le taux de transformation des devis",
            metric="taux de transformation des devis",
            baseline="18 %",
            target="25 %",
            deadline=date(2027, 12, 31),
            owner="Directrice commerciale",
            source_turn_ids=[2],
        ),
        Objective(
            id="OBJ-002",
            statement="Réduire le délai de réponse aux réclamations",
            metric="délai moyen de première réponse",
            target="24 h",
        ),
        Constraint(
            id="CON-001",
            kind=ConstraintKind.BUDGET,
            statement="Budget de la première année",
            money=Money(amount=Decimal("80000"), currency="EUR", tax_basis=TaxBasis.EXCL_TAX),
            source_turn_ids=[3],
        ),
        Constraint(
            id="CON-002",
            kind=ConstraintKind.BUDGET,
            statement="Maintenance annuelle",
            money=Money(amount=Decimal("12500.50"), currency="EUR"),
        ),
        Constraint(
            id="CON-003",
            kind=ConstraintKind.DEADLINE,
            statement="Mise en production",
            due=DateValue(value=date(2027, 4, 1), precision=DatePrecision.QUARTER),
            source_turn_ids=[3],
        ),
        Constraint(
            id="CON-004",
            kind=ConstraintKind.TECHNICAL,
            statement="Le CRM doit s'intégrer à l'ERP Sage X3 existant.",
        ),
        UseCase(
            id="UC-001",
            title="Saisir un compte rendu de visite sur mobile",
            actor="Commercial terrain",
            goal="Garder la trace de chaque visite",
            steps=["Ouvrir la fiche du compte", "Dicter le compte rendu", "Planifier la relance"],
            source_turn_ids=[2],
        ),
        UseCase(id="UC-002", title="Traiter une réclamation", actor=""),
        Risk(
            id="RSK-001",
            statement="Les commerciaux n'adoptent pas l'outil.",
            likelihood=Level.HIGH,
            impact=Level.HIGH,
            mitigation="Former les commerciaux et nommer des référents.",
        ),
        OpenQuestion(
            id="Q-001",
            question="Quelle durée de conservation pour les prospects inactifs ?",
            section=SectionId.DATA,
        ),
        Conflict(
            id="CNF-001",
            subject="Priorité de l'application mobile",
            object_ids=["REQ-003"],
            statements=[
                ConflictingStatement(
                    stakeholder_id=alice.id, text="Le mobile est indispensable dès le départ.", turn_id=2
                ),
                ConflictingStatement(stakeholder_id=bruno.id, text="La mobilité peut attendre la phase 2.", turn_id=4),
            ],
        ),
    )
    return pid


def build_english_project(store: Store) -> str:
    """The English fixture project; returns its id."""
    project = store.create_project("Acme CRM", language="en", company="Acme Ltd")
    pid = project.id
    dana = store.add_stakeholder(pid, "Dana Smith", "Head of Sales")
    store.append_turn(
        pid, Speaker.STAKEHOLDER, "We need a CRM before Q3 2027, for £50k incl. VAT.", "en", stakeholder_id=dana.id
    )
    _save(
        store,
        pid,
        Requirement(
            id="REQ-001",
            statement="Acme sells industrial pumps to 2,000 B2B customers across the UK.",
            section=SectionId.COMPANY,
            source_turn_ids=[1],
        ),
        Requirement(
            id="REQ-002",
            statement="Sales reps shall log a visit report from their phone in under 2 minutes.",
            section=SectionId.FUNCTIONAL,
            moscow=MoSCoW.MUST,
            horizon=Horizon.SHORT,
            source_turn_ids=[1],
        ),
        Requirement(
            id="REQ-003",
            statement="The CRM shall support SSO with the company's identity provider.",
            section=SectionId.NON_FUNCTIONAL,
            kind=RequirementKind.NON_FUNCTIONAL,
            category=NfrCategory.SECURITY,
            moscow=MoSCoW.SHOULD,
        ),
        Objective(id="OBJ-001", statement="Shorten the quote turnaround", metric="median quote time", target="2 days"),
        Constraint(
            id="CON-001",
            kind=ConstraintKind.BUDGET,
            statement="Total budget",
            money=Money(amount=Decimal("50000"), currency="GBP", tax_basis=TaxBasis.INCL_TAX),
            source_turn_ids=[1],
        ),
        Constraint(
            id="CON-002",
            kind=ConstraintKind.DEADLINE,
            statement="Go-live",
            due=DateValue(value=date(2027, 7, 1), precision=DatePrecision.QUARTER),
            source_turn_ids=[1],
        ),
        UseCase(
            id="UC-001",
            title="Log a visit report",
            actor="Field sales rep",
            steps=["Open the account", "Dictate the report", "Schedule the follow-up"],
        ),
    )
    return pid
