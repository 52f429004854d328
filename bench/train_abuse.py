"""Train the abuse model shipped in detectors/data/abuse_model.npz.

    .venv/bin/python bench/train_abuse.py [--corpus /work/shared/corpus] [--out detectors/data/abuse_model.npz]

Trains ONLY on the dev split of sources whose licence allows it: Davidson 2017 (MIT), EDOS (CC0)
and the Jigsaw sample (CC0). TweetEval (no licence) and ETHOS (GPL-3.0) are used only to report
how the model does on data it never saw. One fifth of the trainable records (chosen by a hash of
their id, so the split is stable) is held out for validation and never trained on.

Training needs scikit-learn and scipy (already in the venv as alt-profanity-check's
dependencies); the shipped model is plain numpy arrays scored by ``detectors.abuse_model``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.abuse import prepare
from detectors.abuse_model import DENSE, HASH_SIZE, HEADS, N_FEATURES, ProfanityCheck, dense_features, feature_indices

TRAIN_SOURCES = ("davidson2017", "edos", "jigsaw_ibm_sample")
EVAL_ONLY = ("tweeteval_offensive", "tweeteval_hate", "ethos")
VERSION = "2026.11-8"
EDOS_NEGATIVE: float | None = None


@dataclass
class Example:
    id: str
    source: str
    text: str
    unified: dict[str, bool | None]
    orig: dict[str, object]


def load(corpus: Path, names: tuple[str, ...]) -> Iterator[Example]:
    for name in names:
        with (corpus / "dev" / "text" / f"{name}.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                r = json.loads(line)
                yield Example(r["id"], r["source"], r["text"], r["unified"], r.get("orig") or {})


def is_validation(item_id: str) -> bool:
    return int(hashlib.sha256(("val:" + item_id).encode()).hexdigest()[:8], 16) % 5 == 0


def labels(ex: Example) -> dict[str, float | None]:
    """Target per head (1/0), or None where the source does not say (not trained on)."""
    u = ex.unified
    out: dict[str, float | None] = dict.fromkeys(HEADS)
    if ex.source == "davidson2017":
        out["abusive"] = float(bool(u["abusive"]))
        out["hate"] = float(bool(u["hate"]))
        if not u["abusive"]:
            out.update(sexist=0.0, sexual=0.0, threat=0.0)
    elif ex.source == "edos":
        sexist = bool(u["sexist"])
        out["sexist"] = float(sexist)
        # Not-sexist EDOS posts may still be rude (the source does not say): training on them as
        # "not abusive" taught the model that swearing and insults are fine, so they are left out.
        out["abusive"] = 1.0 if sexist else EDOS_NEGATIVE
        out["hate"] = None if sexist else 0.0
        out["sexual"] = float(bool(u["sexual"])) if u["sexual"] is not None else (0.0 if not sexist else None)
        out["threat"] = float(bool(u["threat"])) if u["threat"] is not None else (0.0 if not sexist else None)
    elif ex.source == "jigsaw-ibm-sample":
        out["abusive"] = float(bool(u["abusive"]))
        out["hate"] = float(bool(ex.orig.get("identity_hate")))
        out["threat"] = float(bool(ex.orig.get("threat")))
        if not u["abusive"]:
            out.update(sexist=0.0, sexual=0.0)
    return out


def featurise(examples: list[Example], profanity: ProfanityCheck):  # type: ignore[no-untyped-def]
    from scipy import sparse

    rows, cols, vals = [], [], []
    for i, ex in enumerate(examples):
        prepared = prepare(ex.text, profanity)
        idx = feature_indices(prepared.folded)
        if idx.size:
            rows.append(np.full(idx.size, i))
            cols.append(idx)
            vals.append(np.full(idx.size, 1.0 / np.sqrt(idx.size)))  # repeats are summed: counts
        dense = dense_features(prepared.profanity, prepared.hits, prepared.targets)
        nz = np.nonzero(dense)[0]
        rows.append(np.full(nz.size, i))
        cols.append(HASH_SIZE + nz)
        vals.append(dense[nz])
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(examples), N_FEATURES),
        dtype=np.float64,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "detectors" / "data" / "abuse_model.npz"
    )
    parser.add_argument("--all", action="store_true", help="after validating, refit on all trainable dev data")
    parser.add_argument("--c-abusive", type=float, default=0.3, help="inverse regularisation of the abusive head")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    profanity = ProfanityCheck()
    examples = list(load(args.corpus, TRAIN_SOURCES))
    train = [e for e in examples if not is_validation(e.id)]
    val = [e for e in examples if is_validation(e.id)]
    print(f"train {len(train)}  validation {len(val)}")
    x_train, x_val = featurise(train, profanity), featurise(val, profanity)
    x_all = featurise(examples, profanity) if args.all else None
    settings = {
        "abusive": (args.c_abusive, "balanced"),
        "hate": (4.0, "balanced"),
        "sexist": (4.0, "balanced"),
        "sexual": (2.0, "balanced"),
        "threat": (2.0, "balanced"),
    }
    weights = np.zeros((N_FEATURES, len(HEADS)), dtype=np.float32)
    bias = np.zeros(len(HEADS), dtype=np.float32)
    for h, head in enumerate(HEADS):
        c, cw = settings[head]
        y_tr = [labels(e)[head] for e in train]
        mask = np.array([y is not None for y in y_tr])
        clf = LogisticRegression(C=c, class_weight=cw, max_iter=2000, solver="liblinear")
        clf.fit(x_train[mask], np.array([y for y in y_tr if y is not None]))
        y_va = [labels(e)[head] for e in val]
        vmask = np.array([y is not None for y in y_va])
        yv = np.array([y for y in y_va if y is not None])
        auc = roc_auc_score(yv, clf.decision_function(x_val[vmask])) if len(set(yv)) > 1 else float("nan")
        print(
            f"{head:8s} train n={mask.sum():5d} pos={int(sum(y or 0 for y in y_tr)):5d}  validation AUC {auc:.3f} (n={vmask.sum()}, pos={int(yv.sum())})"
        )
        if x_all is not None:
            y_all = [labels(e)[head] for e in examples]
            amask = np.array([y is not None for y in y_all])
            clf.fit(x_all[amask], np.array([y for y in y_all if y is not None]))
        weights[:, h] = clf.coef_[0]
        bias[h] = clf.intercept_[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=weights[:HASH_SIZE].astype(np.float16),
        dense_weights=weights[HASH_SIZE:],
        bias=bias,
        heads=np.array(HEADS),
        dense=np.array(DENSE),
        version=np.array(VERSION + ("-all" if args.all else "")),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    for name, w in zip(DENSE, weights[HASH_SIZE:], strict=True):
        print(f"  {name:20s} " + " ".join(f"{v:+.2f}" for v in w))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
