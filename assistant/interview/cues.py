"""What code reads in a stakeholder's words without a model: language, "don't know", orders, corrections,
priority, horizon, budget lines and milestones.

A small model cannot be trusted with these decisions, so the pipeline takes them from the answer itself. The
words stakeholders use for them are a small closed set in each language; each list below is that set, accents
folded and lower-cased, matched on word boundaries.
"""

from __future__ import annotations

import re

from assistant.schemas import ConstraintKind, FoundConstraint, Horizon, Language, MoSCoW, NfrCategory
from assistant.text import strip_accents

_DONT_KNOW = re.compile(
    r"^\s*(je ne sais pas|je sais pas|aucune idee|pas d'idee|sais pas|ne sais pas|passer|joker|"
    r"i don'?t know|no idea|not sure|skip|pass|dunno)\s*[.!]*\s*$",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"(ignore[zr]?\s+(all\s+|your\s+|the\s+|previous\s+|tes\s+|vos\s+|les\s+)*(instructions|rules|consignes|regles)"
    r"|^\s*(system|assistant)\s*:|disregard\s+(the|your|all)|oublie[sz]?\s+(tes|vos|les)\s+(instructions|consignes)"
    r"|(mark|set|mets|mettez|classe[zr]?)\s+(everything|all|tout|toutes?)\b.{0,30}\b(must|indispensable))",
    re.IGNORECASE | re.MULTILINE,
)
_CORRECTION = re.compile(
    r"\b(en fait|finalement|correction|je (me )?corrige|je rectifie|je me suis trompee?|plutot|non pas|et non|"
    r"actually|i meant|i stand corrected|let me correct|i was wrong|instead of|rather than|not \d)",
    re.IGNORECASE,
)

_MUST_WORDS = re.compile(
    r"\b(must|mandatory|essential|required|critical|absolutely|doit|doivent|devra|indispensable|obligatoire|"
    r"imperati|essentiel|absolument|non negociable|non-negotiable|crucial)",
    re.IGNORECASE,
)


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(" + "|".join(phrases) + r")(?![\w-])", re.IGNORECASE)


_NOT_MUST = _words(
    r"(pas|plus) (vraiment |forcement |absolument )?(indispensable|obligatoire|prioritaire|essentiel(le)?|vital)",
    r"not (really |strictly |absolutely )?(a must|essential|mandatory|critical|required|a priority)",
    r"(don'?t|do not|doesn'?t) (really )?need",
)
_WONT = _words(
    r"pas question",
    r"hors (du )?perimetre",
    r"exclu(e|s|es)?",
    r"on ne veut pas",
    r"nous ne voulons pas",
    r"surtout pas",
    r"(je|on|nous) ne (veux|voulons|veut) (surtout )?pas",
    r"hors sujet pour ce projet",
    r"out of scope",
    r"ruled out",
    r"won'?t",
    r"we don'?t want",
    r"no way",
    r"not in this project",
    r"not part of (this|the) (project|scope)",
)
_MUST = _words(
    r"doit|doivent|devra|devront",
    r"indispensables?",
    r"obligatoires?",
    r"imperati(f|ve|fs|ves)",
    r"imperativement",
    r"essentiel(le)?s?",
    r"absolument",
    r"non negociables?",
    r"crucial(e|es|aux)?",
    r"vital(e|es|aux)?",
    r"critiques?",
    r"incontournables?",
    r"exige(nt)?",
    r"il (nous )?faut (absolument|imperativement)",
    r"sans (ca|cela|eux|elle)",
    r"must(-have)?",
    r"mandatory",
    r"essential",
    r"absolutely",
    r"non-?negotiable",
    r"critical",
    r"crucial",
    r"vital",
    r"required",
    r"a hard requirement",
    r"have to have",
    r"deal-?breaker",
    r"top priority",
    r"priorite (absolue|numero un|n ?1)",
    r"en priorite",
)
_COULD = _words(
    r"un plus",
    r"(ce serait|ca serait|c'?est) (bien|chouette|sympa|appreciable|un bonus)",
    r"(serait|seraient) (appreciables?|bienvenue?s?)",
    r"si possible",
    r"idealement",
    r"eventuellement",
    r"bonus",
    r"pas prioritaire",
    r"accessoire",
    r"on peut s'en passer",
    r"peut attendre",
    r"a la marge",
    r"nice to have",
    r"nice-to-have",
    r"would be (nice|good|great|a plus)",
    r"a plus",
    r"if possible",
    r"ideally",
    r"optional",
    r"not a priority",
    r"can wait",
    r"bonus",
    r"we could live without",
)
_HORIZON: tuple[tuple[Horizon, re.Pattern[str]], ...] = (
    (
        Horizon.LONG,
        _words(
            r"(a|sur le|plus) long terme",
            r"a terme",
            r"un jour",
            r"dans (trois|quatre|cinq|3|4|5) ans",
            r"pas pour (tout de suite|maintenant|demain)",
            r"phase (3|trois)",
            r"troisieme phase",
            r"lot (3|trois)",
            r"longer term",
            r"long term",
            r"long-term",
            r"eventually",
            r"some day",
            r"one day",
            r"phase (3|three)",
            r"in (three|four|five|3|4|5) years",
            r"not (for )?now",
            r"further down the (road|line)",
        ),
    ),
    (
        Horizon.MEDIUM,
        _words(
            r"phase (2|deux)",
            r"deuxieme phase",
            r"seconde phase",
            r"lot (2|deux)",
            r"deuxieme lot",
            r"(dans|d'ici) (un|1|deux|2|un ou deux|1 ou 2|douze|dix-huit|12|18) (ans?|mois)",
            r"(dans|d'ici) un an ou deux",
            r"plus tard",
            r"dans un second temps",
            r"moyen terme",
            r"l'an(nee)? prochaine?",
            r"phase (2|two)",
            r"second phase",
            r"phase two",
            r"later on",
            r"(within|in) (a|one|two|1|2|12|18) (years?|months)",
            r"in a year or two",
            r"(a|one) year or two",
            r"un an ou deux",
            r"next year",
            r"medium term",
            r"medium-term",
            r"second (release|stage|lot)",
            r"lot 2",
            r"release 2",
            r"v2",
        ),
    ),
    (
        Horizon.SHORT,
        _words(
            r"des (le|la) (demarrage|depart|debut|lancement|mise en service|premier jour|lot 1|premier lot|"
            r"premiere version|jour un|jour 1)",
            r"(au|le jour du|le jour de la) (demarrage|lancement|mise en service)",
            r"lot (1|un)",
            r"premier lot",
            r"phase (1|un)",
            r"premiere phase",
            r"tout de suite",
            r"immediatement",
            r"court terme",
            r"au plus vite",
            r"from day (one|1)",
            r"day one",
            r"at (go-?live|launch)",
            r"first (release|phase|lot|stage)",
            r"phase (1|one)",
            r"lot 1",
            r"release 1",
            r"right away",
            r"immediately",
            r"short term",
            r"short-term",
            r"for now",
            r"to start with",
            r"dans un premier temps",
            r"pour commencer",
            r"premier jour",
            r"asap",
            r"as soon as possible",
            r"at go-live",
            r"from the start",
            r"from launch",
        ),
    ),
)
_REFERS_BACK = _words(
    r"c'?est",
    r"ce (point|besoin|sujet)",
    r"ces ((deux|trois|quatre|cinq|six|\d+) )?(points|besoins|fonctions|elements|sujets)",
    r"tout (ca|cela)",
    r"les (deux|trois|quatre|cinq)",
    r"ces (deux|trois|quatre|cinq)(-la)?",
    r"ca|cela|celui-ci|celle-ci",
    r"it'?s",
    r"this is",
    r"that'?s",
    r"that is",
    r"these",
    r"those",
    r"all (of )?(this|that|these)",
    r"both",
    r"(the )?(two|three|four|five) of them",
)
_PARTIAL_DONT_KNOW = _words(
    r"je ne (le )?sais pas",
    r"je sais pas",
    r"aucune idee",
    r"je n'?en ai (aucune idee|pas la moindre idee)",
    r"je ne saurais (pas )?(le )?dire",
    r"je n'?ai pas (le chiffre|les chiffres|l'information)",
    r"je ne connais pas (le chiffre|le nombre|le montant)",
    r"il faudrait (que je )?(demander|verifier)",
    r"(i )?don'?t know",
    r"no idea",
    r"i'?m not sure",
    r"i can'?t (say|tell)",
    r"i'?d have to (check|ask)",
    r"i do not know",
    r"not sure",
)


_ALSO = _words(r"aussi", r"egalement", r"de meme", r"also", r"too", r"as well", r"likewise")


def says_also(text: str) -> bool:
    """Whether a clause adds to the one before it ("Le suivi des legs aussi"): it shares its priority and horizon."""
    return bool(_ALSO.search(strip_accents(text).lower()))


def priority_cue(text: str) -> MoSCoW | None:
    """The MoSCoW priority a clause states in words, or None when it states none.

    Order matters: a negated obligation ("pas indispensable", "not a must") is a lower priority, and an
    exclusion beats an obligation word in the same clause ("surtout pas", "we don't want").
    """
    folded = strip_accents(text).lower()
    if _NOT_MUST.search(folded):
        return MoSCoW.COULD if _COULD.search(folded) else MoSCoW.SHOULD
    if _WONT.search(folded):
        return MoSCoW.WONT
    if _MUST.search(folded):
        return MoSCoW.MUST
    if _COULD.search(folded):
        return MoSCoW.COULD
    return None


def horizon_cue(text: str) -> Horizon | None:
    """The horizon a clause states ("phase 2" → medium, "dès le lot 1" → short), or None.

    The longer horizon wins when a clause names two ("en phase 2, pas au lot 1"): the stakeholder is moving
    the need later.
    """
    folded = strip_accents(text).lower()
    for horizon, pattern in _HORIZON:
        if pattern.search(folded):
            return horizon
    return None


_POINTS_BACK = _words(
    r"ces ((deux|trois|quatre|cinq|six|\d+) )?(points|besoins|fonctions|elements|sujets|demandes)",
    r"tout (ca|cela)",
    r"these ((two|three|four|five|six|\d+) )?(points|needs|features|items|things)",
    r"all (of )?(this|these|that)",
    r"(both|the (two|three|four|five)) of them",
)


def points_back(text: str) -> bool:
    """Whether a clause is about several things said before it ("ces quatre points", "all of this"): it rates
    them and is not a need of its own."""
    return bool(_POINTS_BACK.search(strip_accents(text).lower()))


def refers_back(text: str) -> bool:
    """Whether a clause points at what was said before it ("c'est indispensable", "ces quatre points", "this")."""
    return bool(_REFERS_BACK.search(strip_accents(text).lower()))


def says_dont_know(text: str) -> bool:
    """Whether a clause admits not knowing something, anywhere in it ("honnêtement, je ne sais pas")."""
    return bool(_PARTIAL_DONT_KNOW.search(strip_accents(text).lower()))


def detect_language(text: str, default: Language) -> Language:
    """French or English, by a lexical detector; very short answers keep the project's language."""
    import simplemma

    if len(text.split()) < 3:
        return default
    scores = dict(simplemma.langdetect(text, lang=("fr", "en")))
    if scores.get("fr", 0) == scores.get("en", 0):
        return default
    return Language.FR if scores.get("fr", 0) > scores.get("en", 0) else Language.EN


def is_dont_know(text: str) -> bool:
    """An answer that only says "I don't know" or "skip" (it records an open question, with no model call)."""
    return bool(_DONT_KNOW.match(strip_accents(text)))


def looks_like_injection(text: str) -> bool:
    """Stakeholder text that tries to give the model orders (it is data, never instructions)."""
    return bool(_INJECTION.search(strip_accents(text)))


def says_correction(text: str) -> bool:
    """Whether the speaker marks their answer as a correction of something said before."""
    return bool(_CORRECTION.search(strip_accents(text)))


def says_must(text: str) -> bool:
    """Whether the stakeholder used a word of obligation; a small model over-uses `must` otherwise."""
    return bool(_MUST_WORDS.search(strip_accents(text)))


def digits(text: str) -> str:
    """The digits of `text`, in order: how an amount or a date is compared with the answer it came from."""
    return re.sub(r"\D", "", text)


def grounded(item: FoundConstraint, answer: str) -> bool:
    """Keep a constraint only if its amount or date words appear in the answer (small models copy examples)."""
    folded = strip_accents(answer).lower()
    for value in (item.amount_text, item.date_text):
        if not value:
            continue
        words = [w for w in re.findall(r"\w+", strip_accents(value).lower()) if len(w) > 1 or w.isdigit()]
        if digits(value) and digits(value) not in digits(answer):
            return False
        if words and not all(w in folded for w in words):
            return False
    return bool(item.amount_text or item.date_text or item.kind not in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE))


_BUDGET_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "licences",
        _words(
            r"licences?",
            r"licenses?",
            r"abonnements?",
            r"subscriptions?",
            r"par utilisateur",
            r"per (user|seat)",
            r"seats?",
        ),
    ),
    (
        "training",
        _words(r"formations? des utilisateurs", r"former (les|nos) utilisateurs", r"user training", r"training"),
    ),
    (
        "integration",
        _words(
            r"integration",
            r"mise en (place|oeuvre)",
            r"parametrage",
            r"deploiement",
            r"reprise (des|de) donnees",
            r"migration",
            r"interfaces?",
            r"implementation",
            r"setup",
            r"set-up",
            r"configuration",
            r"integrator",
            r"integrateur",
            r"projet de mise",
        ),
    ),
    (
        "run",
        _words(
            r"par an",
            r"annuel(le)?s?",
            r"chaque annee",
            r"maintenance",
            r"support",
            r"hebergement",
            r"tma",
            r"per year",
            r"a year",
            r"yearly",
            r"annual(ly)?",
            r"running costs?",
            r"run cost",
            r"hosting",
        ),
    ),
)
_TOTAL = _words(
    r"au total",
    r"tout compris",
    r"en tout",
    r"budget global",
    r"enveloppe globale",
    r"(a|a ete) valide",
    r"all in",
    r"in total",
    r"overall",
    r"all-in",
    r"approved",
    r"total budget",
)
_MILESTONES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "supplier_reply",
        _words(
            r"reponses? des (fournisseurs|editeurs|prestataires)",
            r"remise des (offres|propositions)",
            r"(vendor|supplier) (answers?|replies|responses|proposals)",
            r"proposals? (are )?due",
            r"appel d'offres",
        ),
    ),
    (
        "decision",
        _words(
            r"choix (de l'editeur|du prestataire|de l'integrateur|du fournisseur|de la solution)",
            r"choisir",
            r"decision",
            r"retenir un",
            r"select(ion of)? (a|the) (vendor|supplier)",
            r"choose",
            r"sign(ed)? (the )?contract",
            r"signature du contrat",
        ),
    ),
    (
        "contract_end",
        _words(
            r"fin (du|de notre) contrat",
            r"contrat .{0,40}(se termine|expire|prend fin|s'arrete)",
            r"maintenance s'arrete",
            r"expire",
            r"end of (the|our) (current )?contract",
            r"contract ends",
            r"licence ends",
            r"end of support",
            r"arrete le support",
        ),
    ),
    ("phase_2", _words(r"phase (2|deux)", r"deuxieme phase", r"lot (2|deux)", r"second phase", r"phase two")),
    ("lot_1", _words(r"lot (1|un)", r"premier lot", r"phase (1|un|one)", r"first (phase|lot|release)")),
    (
        "go_live",
        _words(
            r"mise en (service|production|route)",
            r"demarrage",
            r"go-?live",
            r"en production",
            r"operationnel",
            r"launch",
            r"live",
            r"up and running",
            r"roll-?out",
            r"deployed",
        ),
    ),
)


def budget_line(text: str) -> str | None:
    """Which budget line an amount belongs to (licences, integration, training, yearly run cost), if said.

    Two amounts on different lines are two constraints; two on the same line are one fact said twice, or a
    correction, or a disagreement.
    """
    folded = strip_accents(text).lower()
    if _TOTAL.search(folded):
        return None
    lines = [line for line, pattern in _BUDGET_LINES if pattern.search(folded)]
    if len(lines) > 1 and "run" in lines:
        lines.remove("run")  # "les licences, 21 000 € par an": a yearly line, still the licences
    return lines[0] if len(lines) == 1 else None  # a breakdown over several lines is about the total


def milestone(text: str) -> str | None:
    """Which milestone a date belongs to (go-live, lot 1, phase 2, supplier replies, decision, contract end)."""
    folded = strip_accents(text).lower()
    return next((name for name, pattern in _MILESTONES if pattern.search(folded)), None)


_QUALITIES: tuple[tuple[NfrCategory, re.Pattern[str]], ...] = (
    (
        NfrCategory.PRIVACY,
        _words(
            r"rgpd",
            r"gdpr",
            r"donnees personnelles",
            r"heberg\w*",
            r"consentement",
            r"anonymis\w*",
            r"purge\w*",
            r"supprim\w* (les|des) (prospects|contacts|donnees)",
            r"duree de conservation",
            r"personal data",
            r"hosted",
            r"hosting",
            r"consent",
            r"anonymi\w+",
            r"retention",
            r"data residency",
            r"(en|in) (france|europe|the eu|l'union europeenne|the european union)",
        ),
    ),
    (
        NfrCategory.SECURITY,
        _words(
            r"droits d'acces",
            r"habilitations?",
            r"authentification",
            r"sso",
            r"mots? de passe",
            r"chiffr\w*",
            r"journalis\w*",
            r"tracabilite",
            r"seul(e|s|es)? .{0,40} (peut|peuvent|puisse|puissent) (voir|acceder)",
            r"access rights",
            r"permissions?",
            r"authenticat\w+",
            r"single sign-?on",
            r"passwords?",
            r"encrypt\w*",
            r"audit trail",
            r"only .{0,40} (can|may) (see|access)",
            r"role-based",
        ),
    ),
    (
        NfrCategory.INTEGRATION,
        _words(
            r"interfac\w*",
            r"synchronis\w*",
            r"connect\w*",
            r"reli(e|er|ee|es)",
            r"integr\w* (a|avec|with)",
            r"api",
            r"erp",
            r"import\w* (depuis|de|from)",
            r"remont\w* (de|d'|depuis)",
            r"export\w* vers",
            r"sync\w*",
            r"linked to",
            r"plug(ged)? into",
        ),
    ),
    (
        NfrCategory.AVAILABILITY,
        _words(
            r"hors[ -]ligne",
            r"sans reseau",
            r"offline",
            r"disponib\w+",
            r"24 ?h ?/ ?24",
            r"24/7",
            r"sauvegard\w*",
            r"backups?",
            r"uptime",
        ),
    ),
    (
        NfrCategory.PERFORMANCE,
        _words(
            r"en moins de \d+ (secondes?|s)",
            r"temps de reponse",
            r"under \d+ seconds?",
            r"response time",
            r"within \d+ seconds?",
        ),
    ),
    (
        NfrCategory.USABILITY,
        _words(r"ergonomi\w*", r"intuiti\w*", r"facile a utiliser", r"easy to use", r"user-friendly", r"accessib\w+"),
    ),
    (
        NfrCategory.LEGAL,
        _words(r"legal(e|es)?", r"reglementaire", r"loi", r"law", r"regulat\w+", r"conformite", r"compliance"),
    ),
)


def quality_cue(text: str) -> NfrCategory | None:
    """The quality a need is about, from its words ("hébergé en France" → privacy, "relié à Sage" → integration)."""
    folded = strip_accents(text).lower()
    return next((quality for quality, pattern in _QUALITIES if pattern.search(folded)), None)
