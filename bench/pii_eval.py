"""Score the personal-data detector on the labelled PII vectors; prints P/R/F1 per family and speed.

Usage: .venv/bin/python bench/pii_eval.py [CORPUS_PII_DIR]   (default ../shared/corpus/dev/pii)

Span records are scored by overlap: a gold entity is found when a prediction of the same family
overlaps it; a prediction is a false positive when it overlaps no gold entity of its family.
Value records (phone example numbers, NHS README) are scored with the value as the whole text.
The baseline is phonenumbers' own matcher at VALID leniency (GB default region) for phones.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers

# bench/detectors.py would shadow the ``detectors`` package when this runs as a script from bench/
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from detectors.base import SchoolContext  # noqa: E402
from detectors.personal_data import PersonalDataDetector  # noqa: E402
from monitor.domain import Item, ItemKind, ScanItem  # noqa: E402

GOLD_FAMILY = {
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "UK_NHS": "nhs",
    "UK_NINO": "nino",
    "CREDIT_CARD": "card/iban",
    "IBAN_CODE": "card/iban",
    "STREET_ADDRESS": "address",
}
PRED_FAMILY = {
    "personal_data.phone": "phone",
    "personal_data.email": "email",
    "personal_data.nhs_number": "nhs",
    "personal_data.ni_number": "nino",
    "personal_data.bank": "card/iban",
    "personal_data.address": "address",
}
FIXED_SHAPE = ("phone", "email", "nhs", "nino", "card/iban")

Span = tuple[str, int, int]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    gold: tuple[Span, ...]


def load_cases(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "text" in record:
                gold = tuple(
                    (GOLD_FAMILY[e["type"]], e["start"], e["end"])
                    for e in record["entities"]
                    if e["type"] in GOLD_FAMILY
                )
                cases.append(Case(record["id"], record["text"], gold))
            elif record.get("type") in GOLD_FAMILY and record.get("valid"):
                value = record["value"]
                cases.append(Case(record["id"], value, ((GOLD_FAMILY[record["type"]], 0, len(value)),)))
            elif record.get("type") == "UK_POSTCODE":  # a postcode alone is not an address: negatives
                cases.append(Case(record["id"], record["value"], ()))
    return cases


def score(
    cases: Iterable[Case], predict: Callable[[str], list[Span]]
) -> tuple[Counter[str], Counter[str], Counter[str], float, int]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    count = 0
    started = time.perf_counter()
    for case in cases:
        predicted = predict(case.text)
        count += 1
        for fam, s, e in case.gold:
            if any(pf == fam and ps < e and s < pe for pf, ps, pe in predicted):
                tp[fam] += 1
            else:
                fn[fam] += 1
        for pf, ps, pe in predicted:
            if not any(gf == pf and ps < ge and gs < pe for gf, gs, ge in case.gold):
                fp[pf] += 1
    return tp, fp, fn, time.perf_counter() - started, count


def ours() -> Callable[[str], list[Span]]:
    detector = PersonalDataDetector()
    context = SchoolContext()

    def predict(text: str) -> list[Span]:
        item = Item("bench", "bench:pii", "1", ItemKind.POST, text, "", datetime(2026, 1, 1, tzinfo=UTC))
        spans = []
        for finding in detector.detect(ScanItem(item), context):
            family = PRED_FAMILY.get(finding.category)
            if family is not None:
                spans += [(family, s.start, s.end) for s in finding.evidence.spans]
        return spans

    return predict


def phonenumbers_valid(text: str) -> list[Span]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID)
    return [("phone", m.start, m.end) for m in matcher]


def report(
    name: str, result: tuple[Counter[str], Counter[str], Counter[str], float, int], families: Iterable[str]
) -> None:
    tp, fp, fn, seconds, count = result
    print(f"\n{name}: {count} items in {seconds:.2f} s ({count / seconds:,.0f} items/s)")
    print(f"  {'family':<10} {'P':>6} {'R':>6} {'F1':>6}   tp   fp   fn")
    totals = [0, 0, 0]
    for fam in families:
        p, r, f1 = prf(tp[fam], fp[fam], fn[fam])
        print(f"  {fam:<10} {p:6.3f} {r:6.3f} {f1:6.3f} {tp[fam]:4d} {fp[fam]:4d} {fn[fam]:4d}")
        if fam in FIXED_SHAPE:
            totals = [totals[0] + tp[fam], totals[1] + fp[fam], totals[2] + fn[fam]]
    p, r, f1 = prf(*totals)
    print(f"  {'fixed-shape':<10} {p:6.3f} {r:6.3f} {f1:6.3f} {totals[0]:4d} {totals[1]:4d} {totals[2]:4d}")


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def benign(folder: Path) -> None:
    """Findings on ordinary comments (labelled not abusive): mostly real public numbers in tweets."""
    texts = [
        record["text"]
        for path in sorted(folder.glob("*.jsonl"))
        for record in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if (record.get("unified") or {}).get("abusive") is False
    ]
    if not texts:
        return
    predict = ours()
    started = time.perf_counter()
    flagged: Counter[str] = Counter()
    for text in texts:
        for family in {family for family, _, _ in predict(text)}:
            flagged[family] += 1
    seconds = time.perf_counter() - started
    print(
        f"\nordinary comments ({len(texts)}, {len(texts) / seconds:,.0f} items/s): share with a personal-data finding"
    )
    for family, count in sorted(flagged.items()):
        print(f"  {family:<10} {count / len(texts):.4%} ({count})")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    folder = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared/corpus/dev/pii"
    cases = load_cases(folder)
    report("ours (personal_data detector)", score(cases, ours()), (*FIXED_SHAPE, "address"))
    report("baseline: phonenumbers matcher, VALID, GB", score(cases, phonenumbers_valid), ("phone",))
    benign(folder.parent / "text")
    if "-v" in sys.argv:
        predict = ours()
        for case in cases:
            predicted = predict(case.text)
            gold = set(case.gold)
            for fam, s, e in predicted:
                if not any(g[0] == fam and s < g[2] and g[1] < e for g in gold):
                    print("FP", fam, repr(case.text[s:e]), "|", case.id, repr(case.text[:120]))
            for fam, s, e in gold:
                if not any(p[0] == fam and p[1] < e and s < p[2] for p in predicted):
                    print("FN", fam, repr(case.text[s:e]), "|", case.id, repr(case.text[:120]))


if __name__ == "__main__":
    main()
