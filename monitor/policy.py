"""The school's social media policy as data: clause wording, plain titles, and what to do next.

The wording is quoted verbatim from the policy (Sefton "Social Media Policy", February 2022, as
adopted by the school), typos included, because an alert quotes it back to the headteacher and
a paraphrase would not be the policy. ``next_steps`` turns a finding into a short, practical list
for someone who is not technical.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain import Clause, Finding, Item, ItemKind, Severity


@dataclass(frozen=True)
class PolicyClause:
    """One clause the monitor can cite: its reference, a plain title and the quoted wording."""

    clause: Clause
    title: str
    section: str
    wording: str


# Section 4.1 opens with this sentence; each lettered clause completes it.
SECTION_4_1_PREAMBLE = (
    "Any communications that employees make through a professional social media account, "
    "such as a School Instagram and website page, must not:"
)

APPENDIX_1_TITLE = "Protecting Employees from Online Abuse"

APPENDIX_1_INTRO = (
    "Schools employees may from time to time become the victim of online abuse or defamation by "
    "pupils, parents or members of the public. This can be through comments made and published "
    "on the internet or through social media networks. Where this occurs, the Head teacher and "
    "senior management will work to support its employees in every way possible."
)

# "If you are bullied online", in the policy's order.
APPENDIX_1_STEPS: tuple[str, ...] = (
    "You should never respond or retaliate to cyberbullying incidents. You should report "
    "incidents appropriately and seek support from your line manager or Head teacher.",
    "Save evidence of the abuse; take screen prints of messages or web pages and record the time and date.",
    "Where the perpetrator is known to be a current pupil or colleague, the majority of cases "
    "can be dealt with most effectively through the school's own mediation and disciplinary "
    "procedures.",
    "Where the perpetrator is known to be an adult, in nearly all cases, the first action should "
    "be for a senior staff member to invite the person to a meeting to address their concerns, "
    "and if they have a reasonable complaint, to make sure they know how to raise this "
    "appropriately. They can request that the person removes the offending comments.",
    "If they refuse, it should be an organisational decision what to do next either the school or "
    "you could report the matter to the social networking site if it breaches their terms, or "
    "seek guidance from the local authority, legal advisers or support from other agencies for "
    "example, The UK Safer Internet Centre.",
    "If the comments are threatening or abusive, sexist, of a sexual nature or constitute a hate "
    "crime, you or a representative from the school may consider contacting the local police. "
    "Online harassment is a crime.",
)

POLICE_STEP = APPENDIX_1_STEPS[5]

_S41 = "Social media policy, section 4.1"

CLAUSES: dict[Clause, PolicyClause] = {
    Clause.OFFENSIVE: PolicyClause(
        Clause.OFFENSIVE,
        "Offensive or inappropriate content",
        _S41 + "(a)",
        "Be offensive, discriminatory, defamatory or make inappropriate comments about the "
        "School, it's pupils, suppliers or any of it's employees",
    ),
    Clause.COPYRIGHT: PolicyClause(
        Clause.COPYRIGHT,
        "Possible copyright breach",
        _S41 + "(b)",
        "Breach copyright, such as sharing photos, moving images or audio files and documents",
    ),
    Clause.PERSONAL_DATA: PolicyClause(
        Clause.PERSONAL_DATA,
        "Personal or confidential information",
        _S41 + "(c)",
        "Divulge confidential or personal information about, or belonging to the School, its "
        "pupils, its employees or suppliers",
    ),
    Clause.DISREPUTE: PolicyClause(
        Clause.DISREPUTE,
        "Could bring the school into disrepute",
        _S41 + "(d)",
        "Publish anything which may have the potential to bring the School into disrepute",
    ),
    Clause.SOLICITATION: PolicyClause(
        Clause.SOLICITATION,
        "Asks the public to send personal details",
        _S41 + "(e)",
        "Encourage the public to send in personal details to the School via social media",
    ),
    Clause.CHILD_NAME_WITH_PICTURE: PolicyClause(
        Clause.CHILD_NAME_WITH_PICTURE,
        "A child's name with their picture",
        _S41 + "(f)",
        "Contain children's names with their picture",
    ),
    Clause.STAFF_ABUSE: PolicyClause(
        Clause.STAFF_ABUSE,
        "Online abuse of a member of staff",
        "Social media policy, Appendix 1: " + APPENDIX_1_TITLE,
        APPENDIX_1_INTRO,
    ),
}

# Appendix 1's police step names these kinds of comment; detectors use these category prefixes.
POLICE_CATEGORIES: tuple[str, ...] = ("abuse.threat", "abuse.sexual", "abuse.sexist", "abuse.hate")


def clause_info(clause: Clause) -> PolicyClause:
    """The quoted wording and plain title of one clause."""
    return CLAUSES[clause]


def quoted_clause(clause: Clause) -> str:
    """The clause as it reads in the policy, with section 4.1's opening words where they apply."""
    info = CLAUSES[clause]
    if clause is Clause.STAFF_ABUSE:
        return info.wording
    letter = str(clause)[-2]
    return f"{SECTION_4_1_PREAMBLE} {letter}) {info.wording}"


def needs_police_step(finding: Finding) -> bool:
    """True for threatening, sexual, sexist or hateful abuse (Appendix 1's police step)."""
    if finding.clause is not Clause.STAFF_ABUSE:
        return False
    if finding.severity is Severity.CRITICAL:
        return True
    return any(_in_category(finding.category, prefix) for prefix in POLICE_CATEGORIES)


def _in_category(category: str, prefix: str) -> bool:
    return category == prefix or category.startswith(prefix + ".")


def next_steps(finding: Finding, item: Item | None = None) -> list[str]:
    """What the headteacher should do next, in order; ``item`` says whether the school posted it."""
    if finding.clause is Clause.STAFF_ABUSE:
        return _abuse_steps(finding)
    public = item is not None and not item.author_is_school and item.kind is not ItemKind.POST
    steps = [_remove_step(finding.clause, public)]
    steps += _CLAUSE_STEPS[finding.clause]
    if not public and finding.clause in _DISCIPLINARY:
        steps.append(
            "Talk to whoever published it. Section 8 of the policy treats a breach of 4.1(a)-(e) "
            "as a possible disciplinary matter, so follow your usual procedure."
        )
    steps.append(_EVIDENCE_STEP)
    return steps


_EVIDENCE_STEP = (
    "You do not need to take screenshots: Hall Monitor has already saved the post, when it was "
    "published and when it was captured, and any images (attached), so the evidence survives "
    "even if it is deleted."
)

_DISCIPLINARY = frozenset(
    {Clause.OFFENSIVE, Clause.COPYRIGHT, Clause.PERSONAL_DATA, Clause.DISREPUTE, Clause.SOLICITATION}
)


def _remove_step(clause: Clause, public: bool) -> str:
    if public:
        return (
            "This was written by someone outside the school on the school's account: hide or "
            "delete it there, and report it to the platform if it breaks their rules."
        )
    if clause is Clause.CHILD_NAME_WITH_PICTURE:
        return "Edit the post now to remove the child's name, or take the photo down."
    return "Edit the post now to remove the problem, or take the post down."


_CLAUSE_STEPS: dict[Clause, list[str]] = {
    Clause.OFFENSIVE: [
        "If it names or describes a person, check whether they need an apology or support.",
    ],
    Clause.COPYRIGHT: [
        "Check whether the school owns the photo, video, music or document or has permission to "
        "use it. If not, replace it with the school's own material.",
    ],
    Clause.PERSONAL_DATA: [
        "Tell the school's Data Protection Officer (DPO) today: they decide whether this is a "
        "personal data breach that must be reported to the ICO within 72 hours.",
        "Let the person whose details were shared know, if the DPO advises it.",
    ],
    Clause.DISREPUTE: [
        "Look at it with a senior colleague and decide whether it could harm the school's "
        "reputation; if so, remove it.",
    ],
    Clause.SOLICITATION: [
        "Point people to the school office, phone or website form instead of asking them to send "
        "personal details on social media.",
    ],
    Clause.CHILD_NAME_WITH_PICTURE: [
        "Check the photo consent records for every child shown (policy 4.1(f)); if a child has "
        "no consent, remove the photo.",
        "If any child shown could be at risk from being identified (for example a looked-after "
        "child), tell the Designated Safeguarding Lead.",
    ],
}


def _abuse_steps(finding: Finding) -> list[str]:
    steps = [
        "Do not reply to the comment or retaliate, and ask staff not to (Appendix 1).",
        "Evidence is already saved: Hall Monitor captured the comment, its time and date and any "
        "images (attached), so it survives even if the comment is deleted.",
        "Let the member of staff concerned know, and offer them support.",
        "If you know who wrote it: a pupil or colleague can be dealt with through the school's own "
        "procedures; for a parent or other adult, a senior member of staff can invite them to a "
        "meeting and ask them to remove the comment.",
        "Hide or delete the comment on the school's account, and report it to the platform if it breaks their rules.",
    ]
    if needs_police_step(finding):
        steps.append(
            'This comment may be threatening, sexual, sexist or hateful. Appendix 1 says: "'
            + POLICE_STEP
            + '" Call 999 if anyone is in immediate danger; otherwise 101.'
        )
    return steps
