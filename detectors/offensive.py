"""4.1(a) offensive, discriminatory or defamatory wording and 4.1(d) disrepute, in the school's OWN posts.

The same signals as the abuse detector (``AbuseAnalyser``: patterns, model, profanity score) plus
the disrepute patterns in ``detectors.lexicons`` (alcohol, gambling, political campaigning,
mocking pupils or parents, accusations about a person). Severity is low or medium: these go to
the digest for a second look, not to a 3 a.m. email.
"""

from __future__ import annotations

from detectors.abuse import Prepared, prepare, shared_analyser, to_original_spans
from detectors.base import SchoolContext
from detectors.lexicons import DISREPUTE_PATTERNS, Hit
from monitor.domain import Clause, Evidence, Finding, ScanItem, Severity, TextSpan

# abuse category -> (clause, category, severity, explanation)
_OFFENSIVE: dict[str, tuple[str, Severity, str]] = {
    "threat": ("offensive.violent", Severity.MEDIUM, "Violent or threatening wording in a school post."),
    "sexual": ("offensive.sexual", Severity.MEDIUM, "Sexual wording in a school post."),
    "sexist": ("offensive.discriminatory", Severity.MEDIUM, "Sexist wording in a school post."),
    "hate": (
        "offensive.discriminatory",
        Severity.MEDIUM,
        "Discriminatory wording (race, religion, sexuality or disability) in a school post.",
    ),
    "insult": ("offensive.insult", Severity.MEDIUM, "Insulting wording in a school post."),
    "profanity": ("offensive.profanity", Severity.LOW, "Swearing in a school post."),
}
_DISREPUTE: dict[str, tuple[Clause, str, Severity, str]] = {
    "alcohol": (
        Clause.DISREPUTE,
        "disrepute.alcohol",
        Severity.LOW,
        "The post mentions alcohol; check it is suitable for a school account.",
    ),
    "gambling": (
        Clause.DISREPUTE,
        "disrepute.gambling",
        Severity.LOW,
        "The post mentions gambling or betting; check it is suitable for a school account.",
    ),
    "political": (
        Clause.DISREPUTE,
        "disrepute.political",
        Severity.MEDIUM,
        "The post looks like party-political campaigning, which a school account should not do.",
    ),
    "mocking": (Clause.DISREPUTE, "disrepute.mocking", Severity.MEDIUM, "The post seems to mock pupils or parents."),
    "defamatory": (
        Clause.OFFENSIVE,
        "offensive.defamatory",
        Severity.MEDIUM,
        "The post may accuse someone of wrongdoing (possible defamation).",
    ),
}


class OffensiveDetector:
    """Clauses 4.1(a) and 4.1(d) for what the school itself publishes."""

    name = "offensive"
    version = "1.0"

    def __init__(self) -> None:
        self.analyser = shared_analyser()
        self.version = f"1.0+{self.analyser.model.version}"

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """Findings for one of the school's own posts (nothing for other people's comments)."""
        it = item.item
        if not it.author_is_school:
            return []
        text = it.text
        findings: list[Finding] = []
        seen: set[str] = set()
        assessment = self.analyser.assess(text, swearing_threshold=0.0)
        if assessment is not None:
            for category, confidence in assessment.categories.items():
                name, severity, why = _OFFENSIVE[category]
                if name in seen:
                    continue
                seen.add(name)
                spans = to_original_spans(assessment.prepared, assessment.spans[category])
                findings.append(self._finding(Clause.OFFENSIVE, name, severity, confidence, why, spans))
        prep = (
            assessment.prepared
            if assessment is not None
            else (prepare(text, self.analyser.profanity) if text.strip() else None)
        )
        if prep is not None:
            findings.extend(self._disrepute(prep, seen))
        return findings

    def _disrepute(self, prep: Prepared, seen: set[str]) -> list[Finding]:
        by_kind: dict[str, list[Hit]] = {}
        # Also on the unfolded text: leetspeak folding would turn "Bet365" into "betseg".
        lowered = prep.normalised.text.lower()
        sources = (
            [prep.folded] if len(lowered) != len(prep.folded) or lowered == prep.folded else [prep.folded, lowered]
        )
        for source in sources:
            for hit in DISREPUTE_PATTERNS.find(source):
                by_kind.setdefault(hit.kind, []).append(hit)
        out = []
        for kind, hits in by_kind.items():
            clause, name, severity, why = _DISREPUTE[kind]
            if name in seen:
                continue
            seen.add(name)
            spans = to_original_spans(prep, [(h.start, h.end) for h in hits])
            out.append(self._finding(clause, name, severity, 0.7, why, spans))
        return out

    def _finding(
        self,
        clause: Clause,
        category: str,
        severity: Severity,
        confidence: float,
        why: str,
        spans: tuple[TextSpan, ...],
    ) -> Finding:
        return Finding(
            clause, category, severity, round(min(confidence, 0.99), 3), self.name, self.version, Evidence(why, spans)
        )
