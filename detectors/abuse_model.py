"""The abuse model: hashed word and character n-grams scored by linear heads, with numpy only.

Trained by ``bench/train_abuse.py`` on the dev split of MIT/CC0 sources only and shipped as plain
arrays in ``detectors/data/abuse_model.npz`` (no pickles, no scikit-learn at run time). The same
:func:`feature_indices` runs at training and at run time, so the two cannot drift apart.

alt-profanity-check is one more input: its TF-IDF vocabulary and calibrated linear SVMs are read
once from the installed wheel and re-scored here, because its own ``predict_prob`` costs about
3 ms per single call (scikit-learn overhead) against a budget of 0.5 ms per comment.
"""

from __future__ import annotations

import math
import re
import warnings
import zlib
from itertools import pairwise
from dataclasses import dataclass
from typing import cast
from pathlib import Path

import numpy as np

from detectors.lexicons import Hit

MODEL_PATH = Path(__file__).parent / "data" / "abuse_model.npz"
HASH_BITS = 18
HASH_SIZE = 1 << HASH_BITS
HEADS: tuple[str, ...] = ("abusive", "hate", "sexist", "sexual", "threat")
# Dense features after the hashed ones: the profanity-check probability, then lexicon hit counts.
LEXICON_KINDS: tuple[str, ...] = ("threat", "sexual", "sexist", "hate", "insult", "profanity")
DENSE: tuple[str, ...] = (
    "profanity_check",
    *(f"lex_{k}" for k in LEXICON_KINDS),
    "target_staff",
    "target_addressee",
    "target_pupil_parent",
)
N_FEATURES = HASH_SIZE + len(DENSE)

TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_MASK = HASH_SIZE - 1
_token_cache: dict[str, tuple[int, ...]] = {}
_CACHE_LIMIT = 200_000


def _token_grams(token: str) -> tuple[int, ...]:
    """Bucket indices for one token: the word itself and its character 3-5 grams."""
    padded = f" {token} "
    grams = [("w" + token).encode()]
    n = len(padded)
    for size in (3, 4, 5):
        grams.extend(padded[i : i + size].encode() for i in range(n - size + 1))
    return tuple(zlib.crc32(g) & _MASK for g in grams)


def _token_features(token: str) -> tuple[int, ...]:
    """:func:`_token_grams`, cached for training (the model keeps its own per-word rows)."""
    cached = _token_cache.get(token)
    if cached is None:
        if len(_token_cache) >= _CACHE_LIMIT:
            _token_cache.clear()  # bounded memory under hostile input; refills with common words
        cached = _token_cache[token] = _token_grams(token)
    return cached


def feature_indices(folded: str) -> np.ndarray:
    """Hashed feature indices for one folded text (words, word pairs, character n-grams), with
    repeats: a feature's value is its count, so a word's contribution can be cached per word."""
    tokens = [t[:40] for t in TOKEN.findall(folded)]
    out: list[int] = []
    for token in tokens:
        out.extend(_token_features(token))
    out.extend(_bigrams(tokens))
    return np.asarray(out, dtype=np.int64)


def _bigrams(tokens: list[str]) -> list[int]:
    return [zlib.crc32(f"b{a} {b}".encode()) & _MASK for a, b in pairwise(tokens)]


def dense_features(profanity: float, hits: list[Hit], targets: list[Hit]) -> np.ndarray:
    """The dense inputs in :data:`DENSE` order (lexicon counts are capped: two is plenty)."""
    counts = dict.fromkeys(LEXICON_KINDS, 0)
    for hit in hits:
        counts[hit.kind] = counts.get(hit.kind, 0) + 1
    kinds = {t.kind for t in targets}
    values = [profanity] + [min(counts[k], 2) / 2 for k in LEXICON_KINDS]
    values += [
        float(bool(kinds & {"staff_title", "staff_role", "school"})),
        float("addressee" in kinds),
        float("pupil_parent" in kinds),
    ]
    return np.asarray(values, dtype=np.float32)


@dataclass(frozen=True)
class HeadScores:
    """Probability per head, and the hashed indices that pushed the ``abusive`` head up most."""

    probs: dict[str, float]


class AbuseModel:
    """Linear heads over hashed n-grams; ``score`` is a handful of numpy gathers per text."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.weights = data["weights"].astype(np.float32)  # (HASH_SIZE, heads)
            self.dense_weights = data["dense_weights"].astype(np.float32)  # (len(DENSE), heads)
            self.bias = data["bias"].astype(np.float32)
            self.heads = tuple(str(h) for h in data["heads"])
            self.version = str(data["version"])
        if self.weights.shape != (HASH_SIZE, len(self.heads)) or self.dense_weights.shape[0] != len(DENSE):
            raise ValueError(f"{path} does not match this version of the abuse model code")

        # Each word seen gets a row holding the sum of its features' weights, so scoring a text is
        # one gather over its words' rows (most words repeat across comments).
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((_CACHE_LIMIT, len(self.heads)), dtype=np.float32)
        self._counts = np.zeros(_CACHE_LIMIT, dtype=np.int64)

    def _row(self, token: str) -> int:
        row = self._rows.get(token)
        if row is None:
            if len(self._rows) >= _CACHE_LIMIT:
                self._rows.clear()  # bounded memory under hostile input; refills with common words
            row = len(self._rows)
            idx = _token_grams(token)
            self._vectors[row] = self.weights.take(idx, axis=0).sum(axis=0)
            self._counts[row] = len(idx)
            self._rows[token] = row
        return row

    def token_weights(self, token: str) -> tuple[np.ndarray, int]:
        """The summed weights of one word's features, and how many features that is."""
        row = self._row(token)
        return self._vectors[row], int(self._counts[row])

    def score(self, folded: str, dense: np.ndarray) -> dict[str, float]:
        """Probability per head for one text."""
        tokens = [t[:40] for t in TOKEN.findall(folded)]
        rows_of = self._rows
        known = [rows_of.get(t) for t in tokens]
        if None in known:
            if len(rows_of) + len(tokens) > _CACHE_LIMIT:
                rows_of.clear()  # before, not during: every row of this text must stay valid
                known = [None] * len(tokens)
            rows = [self._row(t) if r is None else r for r, t in zip(known, tokens, strict=True)]
        else:
            rows = cast(list[int], known)  # no None left
        total = self._vectors.take(rows, axis=0).sum(axis=0)
        n = int(self._counts.take(rows).sum())
        pairs = _bigrams(tokens)
        if pairs:
            total += self.weights.take(pairs, axis=0).sum(axis=0)
            n += len(pairs)
        logits = self.bias + dense @ self.dense_weights
        if n:
            logits += total / math.sqrt(n)
        probs = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return {h: float(p) for h, p in zip(self.heads, probs, strict=True)}


_PC_TOKEN = re.compile(r"(?u)\b\w\w+\b")


class ProfanityCheck:
    """alt-profanity-check's model (TF-IDF + 5 calibrated linear SVMs), scored without scikit-learn."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # its pickles name an older scikit-learn: harmless here
            warnings.simplefilter("ignore")
            from profanity_check import profanity_check as pc  # loads its joblib files once

        vocab: dict[str, int] = pc.vectorizer.vocabulary_
        idf = np.asarray(pc.vectorizer.idf_, dtype=np.float64)
        coefs, intercepts, slopes, offsets = [], [], [], []
        for cc in pc.model.calibrated_classifiers_:
            coefs.append(np.asarray(cc.estimator.coef_[0], dtype=np.float64))
            intercepts.append(float(cc.estimator.intercept_[0]))
            slopes.append(float(cc.calibrators[0].a_))
            offsets.append(float(cc.calibrators[0].b_))
        matrix = np.stack(coefs, axis=1)  # (vocab, 5)
        # Plain floats: for the ~20 words of a comment, Python arithmetic beats numpy's call overhead.
        self._entries: dict[str, tuple[float, tuple[float, ...]]] = {
            word: (float(idf[i]), tuple(float(v) for v in matrix[i])) for word, i in vocab.items()
        }
        self._intercepts = tuple(intercepts)
        self._calibration = tuple(zip(slopes, offsets, strict=True))

    def prob(self, text: str) -> float:
        """The probability alt-profanity-check's ``predict_prob`` gives for ``text``."""
        counts: dict[str, int] = {}
        entries = self._entries
        for token in _PC_TOKEN.findall(text.lower()):
            if token in entries:
                counts[token] = counts.get(token, 0) + 1
        decision = list(self._intercepts)
        if counts:
            acc = [0.0] * len(decision)
            norm = 0.0
            for token, count in counts.items():
                idf, row = entries[token]
                value = count * idf
                norm += value * value
                for k, w in enumerate(row):
                    acc[k] += value * w
            scale = 1.0 / math.sqrt(norm)
            decision = [d + a * scale for d, a in zip(decision, acc, strict=True)]
        total = 0.0
        for (slope, offset), d in zip(self._calibration, decision, strict=True):
            total += 1.0 / (1.0 + math.exp(min(700.0, slope * d + offset)))
        return total / len(decision)
