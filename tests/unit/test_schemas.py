"""The domain models accept what a specification needs and refuse nonsense with actionable messages."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from assistant.schemas import (
    Conflict,
    Constraint,
    ConstraintKind,
    DateValue,
    DraftSection,
    Money,
    NfrCategory,
    Objective,
    OpenQuestion,
    Requirement,
    RequirementKind,
    Speaker,
    TaxBasis,
    Turn,
    UseCase,
)


def test_requirement_defaults_are_a_proposed_stated_should():
    req = Requirement(id="REQ-012", statement="Le CRM doit dédupliquer les contacts à l'import.")
    assert req.status == "proposed"
    assert req.provenance == "stated"
    assert req.moscow == "should"
    assert req.kind is RequirementKind.FUNCTIONAL


def test_non_functional_requirement_carries_a_category():
    req = Requirement(
        id="REQ-001",
        statement="Search results appear within 2 seconds for 95% of queries.",
        kind="non_functional",
        category="performance",
        moscow="must",
        horizon="short",
        section="non_functional",
        acceptance_criteria=["Measured on 10,000 contacts"],
    )
    assert req.category is NfrCategory.PERFORMANCE


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"statement": "   "}, "at least 3 characters"),
        ({"statement": "x" * 2001}, "at most 2000 characters"),
        ({"moscow": "maybe"}, "'must', 'should', 'could' or 'wont'"),
        ({"id": "REQ-7"}, "must look like `REQ-001`"),
        ({"id": "OBJ-001"}, "must look like `REQ-001`"),
        ({"category": "security"}, "a functional requirement has no quality category"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_requirement_rejects_nonsense(values, message):
    base = {"id": "REQ-001", "statement": "The CRM shall export contacts to CSV."}
    with pytest.raises(ValidationError) as caught:
        Requirement(**{**base, **values})
    assert message in str(caught.value)


def test_objective_lists_missing_smart_fields_in_order():
    objective = Objective(id="OBJ-001", statement="Augmenter le taux de transformation", metric="taux", target="25 %")
    assert objective.missing_smart_fields() == ["baseline", "deadline", "owner"]


def test_dates_out_of_range_are_refused_with_the_valid_range():
    with pytest.raises(ValidationError, match="between 1990-01-01 and 2100-12-31"):
        Objective(id="OBJ-001", statement="Grow revenue", deadline=date(2207, 1, 1))
    with pytest.raises(ValidationError, match="out of range"):
        DateValue(value=date(1900, 5, 1))


def test_constraint_keeps_normalised_money_and_date():
    budget = Constraint(
        id="CON-001",
        kind="budget",
        statement="80 k€ HT pour la première année",
        money=Money(amount=Decimal("80000"), currency="eur", tax_basis="excl_tax"),
    )
    assert budget.money.currency == "EUR"
    assert budget.money.tax_basis is TaxBasis.EXCL_TAX
    deadline = Constraint(
        id="CON-002",
        kind=ConstraintKind.DEADLINE,
        statement="Go-live by Q2 2027",
        due={"value": "2027-06-30", "precision": "quarter"},
    )
    assert deadline.due.value == date(2027, 6, 30)


def test_money_refuses_negative_amounts_and_bad_currencies():
    with pytest.raises(ValidationError):
        Money(amount=Decimal("-1"))
    with pytest.raises(ValidationError, match="pattern"):
        Money(amount=Decimal("10"), currency="euros")


def test_amount_only_on_budget_or_supplier_constraints():
    with pytest.raises(ValidationError, match="belongs to a budget or supplier constraint"):
        Constraint(id="CON-003", kind="regulatory", statement="GDPR applies", money={"amount": "5"})


def test_stakeholder_turn_names_its_speaker():
    with pytest.raises(ValidationError, match="which stakeholder spoke"):
        Turn(id=1, project_id="p1", speaker=Speaker.STAKEHOLDER, text="Bonjour", language="fr")
    Turn(id=1, project_id="p1", speaker=Speaker.ASSISTANT, text="Bonjour", language="fr")


def test_conflict_needs_two_statements():
    with pytest.raises(ValidationError):
        Conflict(id="CNF-001", subject="Budget", statements=[{"stakeholder_id": "STK-001", "text": "80 k€"}])
    conflict = Conflict(
        id="CNF-001",
        subject="Budget",
        statements=[
            {"stakeholder_id": "STK-001", "text": "Le budget est de 80 k€", "turn_id": 2},
            {"stakeholder_id": "STK-002", "text": "Le budget est de 120 k€", "turn_id": 5},
        ],
    )
    assert conflict.status == "open"


def test_other_objects_validate():
    UseCase(id="UC-001", title="Qualify an inbound lead", actor="SDR", steps=["Open the lead", "Call within 1 h"])
    OpenQuestion(id="Q-001", question="Quel est le budget de formation ?", section="budget")
    DraftSection(project_id="p1", section="company", version=1, text="# Présentation")
    with pytest.raises(ValidationError):
        DraftSection(project_id="p1", section="unknown", version=1, text="")
