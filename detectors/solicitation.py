"""Clause 4.1(e): the school's posts must not encourage the public to send personal details via
social media ("DM us your child's name and address", "comment your phone number to enter").

Declarative: an invitation verb, then a personal detail within a few words, in one sentence;
not when the sentence says not to, or points to an official channel (the office, a form, email).
Matching runs on the folded text, so full-width letters, look-alikes and "D.M us" count too.
"""

from __future__ import annotations

import re

from detectors.base import SchoolContext
from detectors.normalise import check_length, normalise
from monitor.domain import Clause, Evidence, Finding, ItemKind, ScanItem, Severity, TextSpan

# Verbs that invite a reply through the platform itself, and verbs that do only with "us"/"me".
PLATFORM_VERBS = r"dm|pm|d\.m\.?|p\.m\.?|direct message|private message|message|inbox|comment|reply|whatsapp|tag"
SEND_VERBS = r"send|tell|share|drop|leave|write|post|pop|put|give|let us know|let me know"
DETAIL = (
    r"(?:(?:your|their|his|her|the|a|full|home|personal|contact|mobile|phone|bank|card|child(?:'s|s')?|"
    r"children'?s|kids?'?s?|son'?s|daughter'?s|little one'?s|and|or|,)\s+){0,4}"
    r"(?:names?|address(?:es)?|phone numbers?|mobile numbers?|numbers?|mobiles?|dates? of birth|dob|birthdays?|"
    r"birth dates?|ages?|e-?mail address(?:es)?|e-?mails?|details|postcodes?|post codes?|year groups?|class(?:es)?|"
    r"photos?|pictures?|pics?|bank details|card details|nhs numbers?|passwords?)\b"
)
INVITATION = re.compile(
    r"\b(?:(?P<platform>" + PLATFORM_VERBS + r")|(?P<send>" + SEND_VERBS + r"))\b"
    r"(?:\s+(?:us|me|the school|our page|below|privately|in the comments|on here))?[\s,:]+(?:with\s+)?"
    r"(?P<detail>" + DETAIL + r"(?:\s*(?:,|and|or|&)\s+" + DETAIL + r"){0,3})"
)
CHANNEL = re.compile(
    r"\b(?:below|in the comments|comments?|on here|on this post|via (?:messenger|dm|facebook|instagram|x|twitter|whatsapp)|"
    r"facebook|instagram|messenger|whatsapp|inbox|privately|dm|pm)\b"
)
CHILD_DETAIL = re.compile(r"\b(?:child|children|kids?|son|daughter|little one)")
NEGATION = re.compile(
    r"\b(?:do not|don'?t|never|please don'?t|no need to|avoid|shouldn'?t|must not|mustn'?t|not)\b[^.!?]{0,25}$"
)
OFFICIAL_CHANNEL = re.compile(
    r"\b(?:to|via|through|using|at|on|in)\s+(?:the\s+|our\s+)?(?:school\s+)?"
    r"(?:office|reception|form|booking form|parentmail|parent ?pay|website|parent portal|school app|letter|"
    r"reply slip|envelope|secure)\b|(?<![^\s@])[^\s@]++@[\w-]+\.\w"
    # the reader is sent to the phone ("call the office"); "we'll call you back" is not that
    r"|\b(?:call|ring|phone) (?:us|the (?:school|office)|reception|our office|\d)"
)
# "numbers" and "photos" are personal only when the sentence says whose or what kind.
VAGUE_DETAIL = re.compile(r"(?:(?:your|their|the|a)\s+)*(?:numbers?|photos?|pictures?|pics?)")
PERSONAL_HINT = re.compile(r"\b(?:phone|mobile|contact|child|children|kids?|son|daughter|yourself|selfie)")
SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")


class SolicitationDetector:
    """Posts that invite the public to send personal details through social media (4.1(e))."""

    name = "solicitation"
    version = "1.0"

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """One finding per inviting sentence in the school's own post or reply."""
        if not (item.item.author_is_school or item.item.kind is ItemKind.POST):
            return []
        check_length(item.item.text)
        norm = normalise(item.item.text)
        findings = []
        for sentence in SENTENCE.finditer(norm.folded):
            found = _invitation(sentence.group())
            if found is None:
                continue
            start, end, child = found
            span = norm.to_original(sentence.start() + start, sentence.start() + end)
            findings.append(
                Finding(
                    clause=Clause.SOLICITATION,
                    category="solicitation.personal_details",
                    severity=Severity.HIGH if child else Severity.MEDIUM,
                    confidence=0.85 if child else 0.75,
                    detector=self.name,
                    detector_version=self.version,
                    evidence=Evidence(
                        "The post asks people to send personal details"
                        + (" about a child" if child else "")
                        + " through social media. Ask them to contact the school office or use a secure form instead.",
                        (TextSpan(*span),),
                    ),
                )
            )
        return findings


def _invitation(sentence: str) -> tuple[int, int, bool] | None:
    """The span of an invitation to send personal details in one sentence, and whether it is a child's."""
    if OFFICIAL_CHANNEL.search(sentence):
        return None
    channel = CHANNEL.search(sentence) is not None
    personal_hint = PERSONAL_HINT.search(sentence) is not None
    child_sentence = CHILD_DETAIL.search(sentence) is not None
    for m in INVITATION.finditer(sentence):
        if NEGATION.search(sentence, max(0, m.start() - 40), m.start()):
            continue
        if m.group("send") and not (
            channel or re.match(r"\s+(?:us|me)\b", sentence[m.end("send") : m.end("send") + 4])
        ):
            continue  # "send your child's name to ..." with no social-media channel
        if VAGUE_DETAIL.fullmatch(m.group("detail").strip()) and not personal_hint:
            continue  # "comment your lucky number", "share your photos of the fair"
        return m.start(), m.end(), child_sentence or CHILD_DETAIL.search(m.group("detail")) is not None
    return None
