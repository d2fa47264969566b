"""The ReqIF 1.2 export (OMG Requirements Interchange Format), for DOORS, Polarion, Jama, Capra and the like.

One SPECIFICATION per project; each part of the specification is a SPEC-HIERARCHY node (pointing to a "section"
SPEC-OBJECT carrying `ReqIF.ChapterName`) whose children are the part's requirements. Every requirement is a
SPEC-OBJECT with string attributes: `ReqIF.ForeignID` (REQ-001), `ReqIF.Text` (the statement), and Cahier's
`Type`, `Category`, `MoSCoW`, `Horizon`, `Provenance`, `SourceTurns`, `Status`, `Rationale`,
`AcceptanceCriteria`. Values are the stable enum values ("must", "security"), not the translated labels, so
that a tool can map them the same way for French and English projects. Identifiers are derived from the
project and object ids, so re-importing a later export updates the same objects instead of duplicating them.

The XML is built with lxml, which escapes text and attribute values: `<script>` in a statement is data.
Rejected requirements are exported too (with `Status` = rejected): ReqIF is for traceability, and a tool that
imports only accepted ones can filter on that attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from assistant.draft.markup import printable
from assistant.draft.template import template_for
from assistant.schemas import Project, Requirement, SectionId
from assistant.store import Store

NAMESPACE = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
MAX_STRING = 10_000
"""MAX-LENGTH of the string datatype: above any statement (2,000) or joined acceptance criteria."""

REQUIREMENT_ATTRIBUTES = (
    "ReqIF.ForeignID",
    "ReqIF.Text",
    "Type",
    "Category",
    "MoSCoW",
    "Horizon",
    "Provenance",
    "SourceTurns",
    "Status",
    "Rationale",
    "AcceptanceCriteria",
)


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _element(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    values = {key.replace("_", "-"): printable(value) for key, value in attributes.items()}
    element = etree.SubElement(parent, _tag(name), values)
    if text is not None:
        element.text = printable(text)
    return element


def _ref(parent: etree._Element, container: str, kind: str, target: str) -> None:
    _element(_element(parent, container), kind, target)


def _requirement_values(requirement: Requirement) -> dict[str, str]:
    return {
        "ReqIF.ForeignID": requirement.id,
        "ReqIF.Text": requirement.statement,
        "Type": requirement.kind.value,
        "Category": requirement.category.value if requirement.category else "",
        "MoSCoW": requirement.moscow.value,
        "Horizon": requirement.horizon.value if requirement.horizon else "",
        "Provenance": requirement.provenance.value,
        "SourceTurns": ", ".join(str(turn) for turn in requirement.source_turn_ids),
        "Status": requirement.status.value,
        "Rationale": requirement.rationale,
        "AcceptanceCriteria": "\n".join(requirement.acceptance_criteria),
    }


def render_reqif(project: Project, requirements: list[Requirement], *, now: datetime | None = None) -> bytes:
    """The ReqIF document (UTF-8 XML bytes) of a project's requirements, grouped by section."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    template = template_for(project.language)
    prefix = f"_{project.id}"

    def ident(suffix: str) -> str:
        return f"{prefix}-{suffix}"

    root = etree.Element(_tag("REQ-IF"), nsmap={None: NAMESPACE, "xhtml": XHTML_NAMESPACE})
    header = _element(_element(root, "THE-HEADER"), "REQ-IF-HEADER", IDENTIFIER=ident("header"))
    _element(header, "COMMENT", f"Exported by Cahier from project {project.id}")
    _element(header, "CREATION-TIME", stamp)
    _element(header, "REQ-IF-TOOL-ID", "Cahier")
    _element(header, "REQ-IF-VERSION", "1.0")
    _element(header, "SOURCE-TOOL-ID", "Cahier")
    _element(header, "TITLE", f"{template.document.kind} — {project.name}")

    content = _element(_element(root, "CORE-CONTENT"), "REQ-IF-CONTENT")
    datatypes = _element(content, "DATATYPES")
    _element(
        datatypes,
        "DATATYPE-DEFINITION-STRING",
        IDENTIFIER=ident("string"),
        LAST_CHANGE=stamp,
        LONG_NAME="String",
        MAX_LENGTH=str(MAX_STRING),
    )

    spec_types = _element(content, "SPEC-TYPES")

    def object_type(suffix: str, name: str, attributes: tuple[str, ...]) -> dict[str, str]:
        element = _element(spec_types, "SPEC-OBJECT-TYPE", IDENTIFIER=ident(suffix), LAST_CHANGE=stamp, LONG_NAME=name)
        definitions = _element(element, "SPEC-ATTRIBUTES")
        ids = {}
        for attribute in attributes:
            ids[attribute] = ident(f"{suffix}-{attribute.replace('.', '-')}")
            definition = _element(
                definitions,
                "ATTRIBUTE-DEFINITION-STRING",
                IDENTIFIER=ids[attribute],
                LAST_CHANGE=stamp,
                LONG_NAME=attribute,
            )
            _ref(definition, "TYPE", "DATATYPE-DEFINITION-STRING-REF", ident("string"))
        return ids

    section_attributes = object_type("section-type", "Section", ("ReqIF.ChapterName",))
    requirement_attributes = object_type("requirement-type", "Requirement", REQUIREMENT_ATTRIBUTES)
    _element(
        spec_types,
        "SPECIFICATION-TYPE",
        IDENTIFIER=ident("specification-type"),
        LAST_CHANGE=stamp,
        LONG_NAME="Specification",
    )

    spec_objects = _element(content, "SPEC-OBJECTS")

    def spec_object(identifier: str, type_suffix: str, definitions: dict[str, str], values: dict[str, str]) -> None:
        element = _element(spec_objects, "SPEC-OBJECT", IDENTIFIER=identifier, LAST_CHANGE=stamp)
        value_list = _element(element, "VALUES")
        for name, value in values.items():
            attribute = _element(value_list, "ATTRIBUTE-VALUE-STRING", THE_VALUE=value)
            _ref(attribute, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF", definitions[name])
        _ref(element, "TYPE", "SPEC-OBJECT-TYPE-REF", ident(type_suffix))

    by_section: dict[SectionId, list[Requirement]] = {section: [] for section in SectionId}
    for requirement in requirements:
        by_section[requirement.section].append(requirement)
    for section in SectionId:
        spec_object(
            ident(f"section-{section.value}"),
            "section-type",
            section_attributes,
            {"ReqIF.ChapterName": template.numbered_title(section)},
        )
        for requirement in by_section[section]:
            spec_object(
                ident(requirement.id), "requirement-type", requirement_attributes, _requirement_values(requirement)
            )

    specifications = _element(content, "SPECIFICATIONS")
    specification = _element(
        specifications, "SPECIFICATION", IDENTIFIER=ident("specification"), LAST_CHANGE=stamp, LONG_NAME=project.name
    )
    _ref(specification, "TYPE", "SPECIFICATION-TYPE-REF", ident("specification-type"))
    chapters = _element(specification, "CHILDREN")
    for section in SectionId:
        chapter = _element(
            chapters,
            "SPEC-HIERARCHY",
            IDENTIFIER=ident(f"h-{section.value}"),
            LAST_CHANGE=stamp,
            LONG_NAME=template.numbered_title(section),
        )
        _ref(chapter, "OBJECT", "SPEC-OBJECT-REF", ident(f"section-{section.value}"))
        if by_section[section]:
            children = _element(chapter, "CHILDREN")
            for requirement in by_section[section]:
                node = _element(children, "SPEC-HIERARCHY", IDENTIFIER=ident(f"h-{requirement.id}"), LAST_CHANGE=stamp)
                _ref(node, "OBJECT", "SPEC-OBJECT-REF", ident(requirement.id))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_reqif(store: Store, project_id: str, *, now: datetime | None = None) -> bytes:
    """The project's requirements as a ReqIF file."""
    return render_reqif(store.get_project(project_id), store.list_objects(project_id, Requirement), now=now)
