"""Appendix 1: abuse in public comments (insult, threat, sexual, sexist, hate, swearing).

Three signals, combined: declarative patterns (``detectors.lexicons``: threats such as "watch your
back" or "I know where you live", slurs, sexual and sexist phrases), a linear model over hashed
n-grams trained on MIT/CC0 data (``detectors.abuse_model``) and alt-profanity-check's score.
Then the target: a named member of staff (roster or a title such as "Mr Hartley"), a role ("the
head", "that teacher"), the school, a pupil or parent, or whoever the comment addresses.

Severity follows the policy: a threat, or sexual, sexist or hateful abuse of staff is critical
because Appendix 1's police step applies; insults aimed at someone are high; swearing at no one
in particular is low or medium.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from detectors.abuse_model import TOKEN, AbuseModel, ProfanityCheck, dense_features
from detectors.base import SchoolContext
from detectors.identity_attack import GroupAttack, find_group_attacks
from detectors.lexicons import ABUSE_PATTERNS, AMBIGUOUS_PROFANITY, MILD_PROFANITY, TARGET_PATTERNS, WEAK_INSULTS, Hit
from detectors.normalise import Normalised, normalise
from monitor.domain import Clause, Evidence, Finding, ScanItem, Severity, TextSpan

# Longer texts are read in windows; beyond MAX_CHARS nothing more is read (no platform allows a
# comment that long, and a 10 MB paste must still come back in bounded time).
MAX_CHARS = 100_000
WINDOW = 1_500

# Chosen with the four-fifths model on the held-out fifth of the trainable dev data and on
# TweetEval/ETHOS (never trained on): 0.76 there gives a benign false-positive rate of 4.6%, under
# the 5% target, with threat recall 0.85. The shipped model is refit on all trainable dev data,
# which makes its scores a little bolder: 0.79 gives it the same TweetEval benign rate (4.5%).
ABUSIVE_THRESHOLD = 0.79
HEAD_THRESHOLDS = {"hate": 0.70, "sexist": 0.70, "sexual": 0.70, "threat": 0.30}
THREAT_HEAD_ALONE = 0.80
# A swear word alone is flagged only when the model agrees a little: "I fucking loved that cat".
SWEARING_THRESHOLD = 0.40
WEAK_FACTOR = 0.8  # a weak insult word needs a target and most of the model's agreement
POLICE = ("threat", "sexual", "sexist", "hate")
GROUP_ATTACK_CONFIDENCE = 0.65

# Invisible to the reader but noise to the model: links, @handles, HTML entities, placeholders.
# Blanked with spaces of the same length so every offset still points into the original text.
_NOISE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@\w+|&(?:amp|lt|gt|quot|#\d+);|\[(?:USER|URL)\]")
_SEVERE_PROFANITY = frozenset({"cunt", "cunts", "motherfucker", "motherfuckers"})


@dataclass(frozen=True)
class Prepared:
    """One text made ready for every signal: normalised, pattern hits, targets, profanity score."""

    normalised: Normalised
    folded: str
    hits: list[Hit]
    targets: list[Hit]
    profanity: float
    group_attacks: list[GroupAttack]


def prepare(text: str, profanity: ProfanityCheck) -> Prepared:
    """Normalise ``text`` (first :data:`MAX_CHARS` characters) and run the patterns over it."""
    text = text[:MAX_CHARS]
    cleaned = _NOISE.sub(lambda m: " " * len(m.group()), text)
    norm = normalise(cleaned)
    folded = _mask_innocent_british(_mask_names(norm.text, norm.folded))
    return Prepared(
        norm,
        folded,
        ABUSE_PATTERNS.find(folded),
        TARGET_PATTERNS.find(folded),
        profanity.prob(folded[: WINDOW * 4]),
        find_group_attacks(folded[: WINDOW * 4]),
    )


# Rude words that are also names: "Dick Whittington", "Moby Dick", "Mr Dick". Inside a run of
# capitalised words they are a name, so they are blanked (same length) before any signal reads them.
_NAME_WORDS = frozenset({"Dick", "Fanny", "Willy", "Cox", "Gay", "Bell"})
_TITLES = frozenset({"mr", "mrs", "miss", "ms", "mx", "dr", "sir"})
_CAPITAL_PAIR = re.compile(r"\b([A-Z][a-z]+) ([A-Z][a-z]+)\b")


def _mask_names(text: str, folded: str) -> str:
    if not any(word in text for word in _NAME_WORDS):
        return folded
    spans = [
        m.span(group)
        for m in _CAPITAL_PAIR.finditer(text)
        for group in (1, 2)
        if m.group(group) in _NAME_WORDS and m.group(1).lower() not in _TITLES
    ]
    return _blanked(folded, spans)


def _blanked(folded: str, spans: Iterable[tuple[int, int]]) -> str:
    """``folded`` with each span replaced by spaces, so every offset still points where it did."""
    chars = list(folded)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# Everyday British meanings of words the US-trained signals take for slurs or sex: "nipping out for
# a fag", "on a bender", "spotted dick" (a pudding), great tits (birds), "the cock crowed". The
# word in brackets is blanked (same length) before any signal reads it.
_INNOCENT_BRITISH = re.compile(
    r"\b(?:for|having|had|have|has|smoke|smoking|smoked|light|lit|quick|crafty|sneaky|roll|rolled|rolling|"
    r"cadge|bum|borrow)(?: a| an| another| my| his| her| their)? (?:quick |crafty |sneaky )?(fags?)\b"
    r"|\b(fag) (?:break|packet|end|ends|butts?|ash)\b|\b(?:on|off on|went on|go on|going on) (?:a|another|one) (bender)\b"
    r"|\bspotted (dick)\b|\b(?:great|blue|coal|marsh|willow|crested|long-tailed|long tailed|bearded) (tits?)\b"
    r"|\b(cock) (?:crowed|crows|crowing|pheasant|robin|sparrow|a doodle)\b|\b(anal) retentive\b"
)
_INNOCENT_HINTS = ("fag", "bender", "dick", "tit", "cock", "anal")


def _mask_innocent_british(folded: str) -> str:
    if not any(hint in folded for hint in _INNOCENT_HINTS):
        return folded
    return _blanked(
        folded,
        (m.span(g) for m in _INNOCENT_BRITISH.finditer(folded) for g in range(1, (m.lastindex or 0) + 1) if m.group(g)),
    )


@dataclass(frozen=True)
class Target:
    kind: str  # staff_named | staff_role | school | pupil_parent | addressee | none
    spans: tuple[tuple[int, int], ...]  # in folded text

    @property
    def is_staff(self) -> bool:
        return self.kind in ("staff_named", "staff_role", "school")


_TARGET_ORDER = ("staff_named", "staff_role", "school", "pupil_parent", "addressee")
_TARGET_WORDS = {
    "staff_named": "a named member of staff",
    "staff_role": "a member of staff",
    "school": "the school",
    "pupil_parent": "a pupil or parent",
    "addressee": "the person it replies to",
    "none": "",
}
_CATEGORY_WORDS = {
    "threat": "A threat of violence or harm",
    "sexual": "A sexual comment",
    "sexist": "A sexist comment",
    "hate": "Hateful language attacking someone's identity (race, religion, sexuality, disability or sex)",
    "insult": "An insulting or harassing comment",
    "profanity": "Swearing, not aimed at anyone in particular",
}


@dataclass(frozen=True)
class Assessment:
    """What the signals say about one text, before it becomes findings for a clause."""

    prepared: Prepared
    probs: dict[str, float]
    categories: dict[str, float]  # category -> confidence
    spans: dict[str, tuple[tuple[int, int], ...]]  # category -> folded spans of the abusive words


class AbuseAnalyser:
    """Loads the model once; ``assess`` is shared by the abuse and the offensive detectors."""

    def __init__(self) -> None:
        self.model = AbuseModel()
        self.profanity = ProfanityCheck()

    def assess(self, text: str, swearing_threshold: float = SWEARING_THRESHOLD) -> Assessment | None:
        """The abusive categories in ``text`` with a confidence each, or ``None`` if it is clean.

        ``swearing_threshold`` is how sure the model must be before a swear word alone counts
        (0 for the school's own posts, where any swearing is worth a second look)."""
        if not text or not text.strip():
            return None
        prep = prepare(text, self.profanity)
        dense = dense_features(prep.profanity, prep.hits, prep.targets)
        probs = self._score(prep.folded, dense)
        by_kind: dict[str, list[Hit]] = {}
        for hit in prep.hits:
            by_kind.setdefault(hit.kind, []).append(hit)
        p = probs["abusive"]
        about_someone = any(t.kind != "addressee" for t in prep.targets)
        cats: dict[str, float] = {}
        for cat in POLICE:
            if by_kind.get(cat) and (cat != "sexual" or _explicit_sexual(by_kind[cat], p, about_someone)):
                cats[cat] = max(0.8, probs.get(cat, 0.0))
            elif probs.get(cat, 0.0) >= HEAD_THRESHOLDS[cat] and cat != "threat":
                # a category head alone: sexism and hate often use no rude word
                cats[cat] = probs[cat]
        strong = [h for h in by_kind.get("insult", []) if h.words not in WEAK_INSULTS]
        weak = [h for h in by_kind.get("insult", []) if h.words in WEAK_INSULTS]
        has_target = bool(prep.targets)
        if strong and (has_target or p >= SWEARING_THRESHOLD):
            cats["insult"] = max(0.75, p)
        elif (p >= ABUSIVE_THRESHOLD and (has_target or weak)) or (
            weak and has_target and p >= ABUSIVE_THRESHOLD * WEAK_FACTOR
        ):
            cats["insult"] = p
        swearing = [
            h
            for h in by_kind.get("profanity", [])
            if h.words not in MILD_PROFANITY and h.words not in AMBIGUOUS_PROFANITY
        ]
        if not cats and ((swearing and p >= swearing_threshold) or p >= ABUSIVE_THRESHOLD):
            cats["profanity"] = max(p, 0.6 if swearing else 0.0)
        for attack in prep.group_attacks:  # "muslims are a plague": hostility with no rude word
            cats[attack.category] = max(cats.get(attack.category, 0.0), GROUP_ATTACK_CONFIDENCE, probs[attack.category])
        if cats and "threat" not in cats and by_kind.get("violence") and not cats.keys() <= {"profanity"}:
            cats["threat"] = max(0.6, probs["threat"])  # abusive and violent: treat as a threat
        if "threat" not in cats and (
            probs["threat"] >= THREAT_HEAD_ALONE or (not cats and probs["threat"] >= HEAD_THRESHOLDS["threat"])
        ):
            # the threat head with no threatening words ("hang her high"): named a threat when it is
            # sure, or when nothing else was found; otherwise the other categories say it (a quarter
            # of its less sure calls were real threats on labelled dev data)
            cats["threat"] = probs["threat"]
        staff_named = any(t.kind in ("staff_title", "staff_role") for t in prep.targets)
        if cats and "hate" not in cats and by_kind.get("identity") and not staff_named:
            cats["hate"] = max(0.6, probs["hate"])  # abuse that names a group: an identity attack
        if not cats:
            return None
        spans: dict[str, tuple[tuple[int, int], ...]] = {}
        for cat in cats:
            kinds = {
                "insult": ("insult", "profanity"),
                "profanity": ("profanity",),
                "threat": ("threat", "violence"),
            }.get(cat, (cat,))
            found = tuple((h.start, h.end) for k in kinds for h in by_kind.get(k, []))
            found += tuple((a.start, a.end) for a in prep.group_attacks if a.category == cat)
            spans[cat] = found or self._model_words(prep.folded)
        return Assessment(prep, probs, cats, spans)

    def _score(self, folded: str, dense: object) -> dict[str, float]:
        if len(folded) <= WINDOW:
            return self.model.score(folded, dense)  # type: ignore[arg-type]
        best: dict[str, float] = {}
        for start in range(0, len(folded), WINDOW):
            window = folded[max(0, start - 100) : start + WINDOW]
            for head, value in self.model.score(window, dense).items():  # type: ignore[arg-type]
                best[head] = max(best.get(head, 0.0), value)
        return best

    def _model_words(self, folded: str) -> tuple[tuple[int, int], ...]:
        """No pattern matched: point at the words the model weighs as most abusive."""
        scored = []
        for m in TOKEN.finditer(folded[:WINDOW]):
            weight = float(self.model.token_weights(m.group()[:40])[0][0])  # the abusive head
            scored.append((weight, m.start(), m.end()))
        scored.sort(reverse=True)
        top = [(s, e) for w, s, e in scored[:2] if w > 0]
        return tuple(sorted(top)) or ((0, min(len(folded), 200)),)


def _explicit_sexual(hits: list[Hit], p: float, about_someone: bool) -> bool:
    """A sexual phrase, or a sexual word about a person or that the model finds abusive ("dick"
    alone is an insult, not a sexual comment)."""
    return any(
        " " in h.words or ((about_someone or p >= ABUSIVE_THRESHOLD) and h.words not in AMBIGUOUS_PROFANITY)
        for h in hits
    )


def find_target(prep: Prepared, context: SchoolContext) -> Target:
    """Who the comment is about, most serious first: named staff, a staff role, the school, ..."""
    found: dict[str, list[tuple[int, int]]] = {}
    for hit in prep.targets:
        kind = hit.kind
        if kind == "staff_title":
            kind = "staff_named"
        found.setdefault(kind, []).append((hit.start, hit.end))
    for start, end in _roster_staff(prep, context):
        found.setdefault("staff_named", []).append((start, end))
    for name in (context.school_name, *context.school_names):
        folded_name = normalise(name).folded.strip() if name else ""
        if len(folded_name) >= 3:
            for m in re.finditer(r"\b" + re.escape(folded_name) + r"\b", prep.folded):
                found.setdefault("school", []).append((m.start(), m.end()))
    for kind in _TARGET_ORDER:
        if found.get(kind):
            return Target(kind, tuple(sorted(set(found[kind]))))
    return Target("none", ())


_CAPITALISED = re.compile(r"\b[A-Z][a-z'\-]+(?: [A-Z][a-z'\-]+)?\b")
_TITLED = re.compile(r"\b(?:mr|mrs|miss|ms|mx|dr|sir)\.? ([a-z][a-z'\-]+)")


def _roster_staff(prep: Prepared, context: SchoolContext) -> list[tuple[int, int]]:
    """Spans of staff names the roster knows (compared as keyed hashes, never as plain names)."""
    if not context.staff:
        return []
    from detectors.roster import name_key  # the roster's own name normalisation, so hashes agree

    spans: list[tuple[int, int]] = []
    for m in _TITLED.finditer(prep.folded):
        if context.staff.lookup("titled", name_key(m.group(0))) or context.staff.lookup(
            "surname", name_key(m.group(1))
        ):
            spans.append((m.start(), m.end()))
    for m in _CAPITALISED.finditer(prep.normalised.text[: WINDOW * 4]):
        words = name_key(m.group(0))
        if context.staff.lookup("full" if " " in words else "surname", words):
            spans.append((m.start(), m.end()))
    return spans


def severity_for(category: str, target: Target, confidence: float) -> Severity:
    """The policy's ladder: police-step abuse of staff is critical, insults high, swearing low."""
    if category in POLICE:
        if target.is_staff or (category == "threat" and target.kind != "none"):
            return Severity.CRITICAL
        return Severity.HIGH
    if category == "insult":
        return Severity.HIGH if target.kind != "none" else Severity.MEDIUM
    return Severity.MEDIUM if confidence >= 0.9 else Severity.LOW


def explain(category: str, target: Target, severity: Severity) -> str:
    """One line a headteacher understands."""
    words = _CATEGORY_WORDS[category]
    about = _TARGET_WORDS[target.kind]
    if about and category != "profanity":
        words += f", aimed at {about}"
    words += "."
    if severity is Severity.CRITICAL:
        words += " Appendix 1's police step applies: the school may consider contacting the police."
    return words


def to_original_spans(prep: Prepared, spans: Sequence[tuple[int, int]]) -> tuple[TextSpan, ...]:
    """Folded-text spans back to the text the author wrote."""
    out = {prep.normalised.to_original(s, e) for s, e in spans}
    return tuple(TextSpan(s, e) for s, e in sorted(out) if e > s)


@lru_cache(maxsize=1)
def shared_analyser() -> AbuseAnalyser:
    """One analyser per process: the abuse and offensive detectors share the loaded model."""
    return AbuseAnalyser()


class AbuseDetector:
    """Appendix 1 abuse in comments, replies and posts by anyone other than the school."""

    name = "abuse"
    version = "1.0"

    def __init__(self) -> None:
        self.analyser = shared_analyser()
        self.version = f"1.0+{self.analyser.model.version}"

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """Findings under clause appendix-1 for one item (none for the school's own posts)."""
        it = item.item
        if it.author_is_school:
            return []
        assessment = self.analyser.assess(it.text)
        if assessment is None:
            return []
        target = find_target(assessment.prepared, context)
        findings = []
        for category, confidence in assessment.categories.items():
            severity = severity_for(category, target, confidence)
            spans = assessment.spans[category] + (target.spans if category != "profanity" else ())
            findings.append(
                Finding(
                    clause=Clause.STAFF_ABUSE,
                    category=f"abuse.{category}",
                    severity=severity,
                    confidence=round(min(confidence, 0.99), 3),
                    detector=self.name,
                    detector_version=self.version,
                    evidence=Evidence(
                        explain(category, target, severity), to_original_spans(assessment.prepared, spans)
                    ),
                )
            )
        return findings
