"""Measure the text detectors through the real command, beside off-the-shelf baselines.

    .venv/bin/python bench/detectors.py [--corpus /work/shared/corpus] [--limit N] [--cores 0]

Runs ``hallmon check --jsonl -`` as a subprocess (pinned to one core with taskset when available)
over corpus/dev/text/*.jsonl (sent as public comments) and corpus/dev/pii/*.jsonl (sent as the
school's posts) and prints, per category: precision, recall, F1, the benign false-positive rate
(records whose ``unified.abusive`` is false), throughput (items/s) and the command's peak memory.
Baselines on the same records: alt-profanity-check alone at 0.5; for personal data,
presidio-style regular expressions alone and phonenumbers alone.

Abuse figures count a record as flagged when any Appendix 1 finding is made ("any"); the
category rows also show how often the right category was named ("cat"). Note that part of the
dev text (Davidson, EDOS, Jigsaw) trained the shipped abuse model (refit on all of it), so even the
``unseen`` rows flatter it; ``--only honest`` retrains on four fifths and scores only what that
model never saw, the closest dev-side estimate of the held-back figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_abuse import TRAIN_SOURCES, is_validation  # noqa: E402

HALLMON = ROOT / ".venv" / "bin" / "hallmon"
ABUSE_CATEGORIES = ("threat", "hate", "sexist", "sexual")
FIXED_SHAPE = {
    "PHONE",
    "PHONE_NUMBER",
    "EMAIL",
    "EMAIL_ADDRESS",
    "UK_NHS",
    "UK_NINO",
    "CREDIT_CARD",
    "IBAN",
    "IBAN_CODE",
}
ADDRESS = {"STREET_ADDRESS"}


@dataclass
class Counts:
    tp: float = 0
    fp: float = 0
    fn: float = 0
    tn: float = 0
    weight: float = 1.0  # how many held-out rows the next record stands for

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += self.weight
        elif truth:
            self.fn += self.weight
        elif predicted:
            self.fp += self.weight
        else:
            self.tn += self.weight

    def f1(self) -> float:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return f"P {p:5.3f}  R {r:5.3f}  F1 {f:5.3f}  (pos {int(self.tp + self.fn)}, neg {int(self.fp + self.tn)})"


@dataclass
class RunStats:
    outputs: list[dict[str, object]]
    seconds: float
    peak_mb: float
    errors: int = 0
    notes: list[str] = field(default_factory=list)


def run_check(records: list[dict[str, object]], cores: str | None) -> RunStats:
    """Feed records to ``hallmon check --jsonl -``; throughput is timed from the first answer to
    the last, so the command's start-up (loading every detector's models) is not counted."""
    cmd = [str(HALLMON), "check", "--jsonl", "-"]
    if cores is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", cores, *cmd]
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    outputs: list[dict[str, object]] = []
    first = last = 0.0
    for line in proc.stdout:
        if line.strip():
            outputs.append(json.loads(line))
            last = time.perf_counter()
            if len(outputs) == 1:
                first = last
    # this command's own peak (RUSAGE_CHILDREN would report the largest child so far, e.g. training)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    writer.join()
    peak = usage.ru_maxrss / 1024
    seconds = max(last - first, 1e-9)
    stats = RunStats(
        outputs, seconds * len(outputs) / max(1, len(outputs) - 1), peak, sum(1 for o in outputs if o.get("errors"))
    )
    stats.notes.append(f"wall {last - started:.1f}s incl. start-up {first - started:.1f}s")
    return stats


def load_jsonl(path: Path, limit: int | None) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


# --- abuse ---


# Held-back rows per source (SOURCES.md): "unseen x held-out mix" reweights the unseen rows to
# these shares, the closest dev-side estimate of the acceptance figures.
HELD_OUT_ROWS = {
    "davidson2017": 16055,
    "edos": 13113,
    "tweeteval_offensive": 9164,
    "tweeteval_hate": 8430,
    "ethos": 683,
    "jigsaw_ibm_sample": 61,
}


def abuse_report(
    label: str, rows: list[dict], flagged: Callable[[int], bool], category: Callable[[int, str], bool] | None
) -> None:  # type: ignore[type-arg]
    unseen = [i for i, r in enumerate(rows) if r["source"].replace("-", "_") not in _TRAIN or is_validation(r["id"])]
    per_source: dict[str, int] = {}
    for i in unseen:
        key = rows[i]["source"].replace("-", "_")
        per_source[key] = per_source.get(key, 0) + 1
    weights = {k: HELD_OUT_ROWS.get(k, n) / n for k, n in per_source.items()}
    groups = {"all dev": (range(len(rows)), False), "unseen": (unseen, False), "unseen x held-out mix": (unseen, True)}
    for name, (index, weighted) in groups.items():
        overall, benign = Counts(), Counts()
        per_cat = {c: (Counts(), Counts()) for c in ABUSE_CATEGORIES}
        for i in index:
            w = weights[rows[i]["source"].replace("-", "_")] if weighted else 1.0
            for counts in (overall, benign, *[x for pair in per_cat.values() for x in pair]):
                counts.weight = w
            u = rows[i]["unified"]
            if u["abusive"] is not None:
                overall.add(bool(u["abusive"]), flagged(i))
            if u["abusive"] is False:
                benign.add(False, flagged(i))
            for c in ABUSE_CATEGORIES:
                if u.get(c) is not None:
                    per_cat[c][0].add(bool(u[c]), flagged(i))
                    if category is not None:
                        per_cat[c][1].add(bool(u[c]), category(i, c))
        fpr = benign.fp / max(1, benign.fp + benign.tn)
        if not weighted:
            by_source: dict[str, Counts] = {}
            for i in index:
                if rows[i]["unified"]["abusive"] is not None:
                    by_source.setdefault(rows[i]["source"], Counts()).add(
                        bool(rows[i]["unified"]["abusive"]), flagged(i)
                    )
            f1s = {k: c.f1() for k, c in sorted(by_source.items())}
            macro = sum(f1s.values()) / max(1, len(f1s))
            print(
                f"  {label:24s} {name:22s} abuse F1 per source: "
                + ", ".join(f"{k} {v:.3f}" for k, v in f1s.items())
                + f"; mean {macro:.3f}"
            )
        print(f"  {label:24s} {name:22s} abuse    {overall.row()}  benign FP rate {fpr:.3f}")
        for c, (any_counts, cat_counts) in per_cat.items():
            extra = f"   | cat: {cat_counts.row()}" if category is not None else ""
            print(f"  {'':24s} {name:22s} {c:8s} any: {any_counts.row()}{extra}")


_TRAIN = {s.replace("-", "_") for s in TRAIN_SOURCES} | {"jigsaw_ibm_sample", "davidson2017", "edos"}


def bench_text(corpus: Path, limit: int | None, cores: str | None) -> None:
    rows: list[dict] = []  # type: ignore[type-arg]
    for path in sorted((corpus / "dev" / "text").glob("*.jsonl")):
        rows.extend(load_jsonl(path, limit))
    for r in rows:
        r["source"] = str(r["source"]).replace("-ibm-sample", "_ibm_sample")
    records = [{"id": str(r["id"]), "kind": "comment", "text": r["text"]} for r in rows]
    stats = run_check(records, cores)
    by_id = {o["id"]: o for o in stats.outputs}
    findings = [by_id.get(str(r["id"]), {}).get("findings", []) for r in rows]
    print(
        f"\nText: {len(rows)} comments through hallmon check ({stats.notes[0]}): "
        f"{len(rows) / stats.seconds:,.0f} items/s on core {cores}, peak memory {stats.peak_mb:.0f} MB, {stats.errors} items with errors"
    )
    abuse_report(
        "hallmon (abuse)",
        rows,
        lambda i: any(f["clause"] == "appendix-1" for f in findings[i]),  # type: ignore[index]
        lambda i, c: any(f["category"] == f"abuse.{c}" for f in findings[i]),  # type: ignore[index]
    )
    from profanity_check import predict_prob

    start = time.perf_counter()
    probs = predict_prob([str(r["text"]) for r in rows])
    seconds = time.perf_counter() - start
    print(f"  baseline alt-profanity-check at 0.5, batched in-process: {len(rows) / seconds:,.0f} items/s")
    abuse_report("alt-profanity-check 0.5", rows, lambda i: bool(probs[i] >= 0.5), None)


# --- the honest estimate: a model that never saw the rows it is scored on ---

# The four-fifths model's threshold that matches the shipped threshold's TweetEval benign rate
# (the shipped model, refit on all trainable data, scores a little higher; see detectors/abuse.py).
FOUR_FIFTHS_THRESHOLD = 0.76


def bench_honest(corpus: Path) -> None:
    """Retrain on four fifths (bench/train_abuse.py without --all), then score, in-process, only
    rows that model never trained on: the closest dev-side estimate of the held-back figures."""
    import tempfile

    import detectors.abuse as abuse
    from detectors.abuse_model import AbuseModel

    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "four_fifths.npz"
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "train_abuse.py"), "--corpus", str(corpus), "--out", str(model_path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        analyser = abuse.AbuseAnalyser()
        analyser.model = AbuseModel(model_path)
    rows: list[dict] = []  # type: ignore[type-arg]
    for path in sorted((corpus / "dev" / "text").glob("*.jsonl")):
        rows.extend(load_jsonl(path, None))
    rows = [r for r in rows if r["source"].replace("-", "_") not in _TRAIN or is_validation(r["id"])]
    shipped, abuse.ABUSIVE_THRESHOLD = abuse.ABUSIVE_THRESHOLD, FOUR_FIFTHS_THRESHOLD
    try:
        results = [analyser.assess(str(r["text"])) for r in rows]
    finally:
        abuse.ABUSIVE_THRESHOLD = shipped
    by_source: dict[str, Counts] = {}
    benign = Counts()
    for r, result in zip(rows, results, strict=True):
        truth = r["unified"]["abusive"]
        if truth is not None:
            by_source.setdefault(r["source"], Counts()).add(bool(truth), result is not None)
        if truth is False:
            benign.add(False, result is not None)
    f1s = {k: c.f1() for k, c in sorted(by_source.items())}
    without_jigsaw = [v for k, v in f1s.items() if "jigsaw" not in k]
    print(f"\nHonest estimate (four-fifths model at {FOUR_FIFTHS_THRESHOLD}, {len(rows)} rows it never trained on):")
    print("  abuse F1 per source: " + ", ".join(f"{k} {v:.3f}" for k, v in f1s.items()))
    print(
        f"  macro F1 {sum(f1s.values()) / len(f1s):.3f} (without the 40-row Jigsaw sample "
        f"{sum(without_jigsaw) / len(without_jigsaw):.3f}); benign false-positive rate "
        f"{benign.fp / max(1, benign.fp + benign.tn):.3f}"
    )
    for category in ABUSE_CATEGORIES:
        positives = [res for r, res in zip(rows, results, strict=True) if r["unified"].get(category)]
        flagged = sum(res is not None for res in positives)
        named = sum(res is not None and category in res.categories for res in positives)
        # HatEval's "hate" includes hate against women, which Appendix 1 (and hallmon) calls sexist
        police = sum(res is not None and bool(res.categories.keys() & {"hate", "sexist"}) for res in positives)
        extra = f", as hate or sexist {police / max(1, len(positives)):.3f}" if category == "hate" else ""
        print(
            f"  {category:7s} recall {flagged / max(1, len(positives)):.3f} (category named "
            f"{named / max(1, len(positives)):.3f}{extra}, n={len(positives)})"
        )


# --- personal data ---

PRESIDIO_STYLE = {
    "EMAIL": re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"),
    "UK_NHS": re.compile(r"\b\d{3}[- ]?\d{3}[- ]?\d{4}\b"),
    "UK_NINO": re.compile(
        r"\b(?!bg|gb|nk|kn|nt|tn|zz)[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z] ?\d{2} ?\d{2} ?\d{2} ?[a-d]\b", re.I
    ),
    "CREDIT_CARD": re.compile(r"\b(?:\d[ -]?){12,18}\d\b"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}[ ]?(?:[A-Z0-9]{4}[ ]?){2,7}[A-Z0-9]{1,4}\b"),
    "PHONE": re.compile(r"(?:\+44\s?|0)(?:\d\s?){9,10}\b"),
}


def _overlaps(span: tuple[int, int], others: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def pii_report(label: str, rows: list[dict], predict: Callable[[int], list[tuple[int, int]]]) -> None:  # type: ignore[type-arg]
    fams = {"fixed-shape": FIXED_SHAPE, "street address": ADDRESS}
    for fam, types in fams.items():
        c = Counts()
        for i, r in enumerate(rows):
            gold = [(e["start"], e["end"]) for e in r.get("entities", []) if e["type"] in types]
            other = [(e["start"], e["end"]) for e in r.get("entities", []) if e["type"] not in types]
            pred = predict(i)
            for g in gold:
                c.add(True, _overlaps(g, pred))
            for p in pred:
                if not _overlaps(p, gold) and not _overlaps(p, other) and fam == "fixed-shape":
                    c.fp += 1  # a finding on nothing labelled: a false alarm
        print(f"  {label:32s} {fam:15s} {c.row()}")


def bench_pii(corpus: Path, limit: int | None, cores: str | None) -> None:
    rows: list[dict] = []  # type: ignore[type-arg]
    for name in ("presidio_recognizer_tests", "presidio_research_synth"):
        rows.extend(load_jsonl(corpus / "dev" / "pii" / f"{name}.jsonl", limit))
    records = [{"id": str(r["id"]), "kind": "post", "text": r["text"]} for r in rows]
    stats = run_check(records, cores)
    by_id = {o["id"]: o for o in stats.outputs}
    spans = [
        [
            tuple(s)
            for f in by_id.get(str(r["id"]), {}).get("findings", [])
            if f["clause"] == "4.1(c)"
            for s in f["spans"]
        ]
        for r in rows
    ]
    print(
        f"\nPersonal data: {len(rows)} texts through hallmon check ({stats.notes[0]}): "
        f"{len(rows) / stats.seconds:,.0f} items/s, peak memory {stats.peak_mb:.0f} MB"
    )
    pii_report("hallmon (4.1(c) findings)", rows, lambda i: spans[i])  # type: ignore[arg-type,return-value]
    regex_spans = [[m.span() for p in PRESIDIO_STYLE.values() for m in p.finditer(str(r["text"]))] for r in rows]
    pii_report("presidio-style patterns alone", rows, lambda i: regex_spans[i])
    import phonenumbers

    for leniency in ("POSSIBLE", "VALID"):
        level = getattr(phonenumbers.Leniency, leniency)
        found = [
            [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(str(r["text"]), "GB", leniency=level)]
            for r in rows
        ]
        pii_report(f"phonenumbers alone ({leniency})", rows, lambda i, f=found: f[i])  # type: ignore[misc]
    values = load_jsonl(corpus / "dev" / "pii" / "phone_example_numbers.jsonl", limit)
    gb = [v for v in values if v.get("region") == "GB"]
    texts = [{"id": str(v["id"]), "kind": "post", "text": f"Please ring {v['value']} for details."} for v in gb]
    out = run_check(texts, cores).outputs
    hit = sum(1 for o in out if any("phone" in f["category"] for f in o["findings"]))  # type: ignore[union-attr,index]
    print(f"  GB example numbers in a sentence: {hit}/{len(gb)} found as phone numbers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--limit", type=int, default=None, help="records per file (quick runs)")
    parser.add_argument("--cores", default="0", help="taskset core list for the command ('' for no pinning)")
    parser.add_argument("--only", choices=("text", "pii", "honest"), default=None)
    args = parser.parse_args()
    cores = args.cores or None
    if args.only in (None, "text"):
        bench_text(args.corpus, args.limit, cores)
    if args.only in (None, "honest"):
        bench_honest(args.corpus)
    if args.only in (None, "pii"):
        bench_pii(args.corpus, args.limit, cores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
