"""Runs every benchmark in bench/ and prints their figures (``make bench``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["pipeline.py", "detectors.py", "media.py", "connectors.py"]


def main() -> int:
    failed = 0
    for name in BENCHES:
        script = HERE / name
        if not script.exists():
            continue
        print(f"\n===== {name} =====", flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
