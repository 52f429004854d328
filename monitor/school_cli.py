"""``hallmon roster import`` and ``hallmon media register``: the school context detectors use."""

from __future__ import annotations

import logging
from pathlib import Path

from monitor.app import App
from storage.school import SchoolStore

log = logging.getLogger(__name__)


def import_roster(app: App, path: Path, kind_option: str) -> int:
    from detectors.roster import read_roster_csv

    kind = "pupil" if kind_option == "pupils" else "staff"
    try:
        records = read_roster_csv(path, kind, app.roster_key())
    except (OSError, ValueError) as exc:
        print(f"Could not import {path}: {exc}")
        return 1
    with app.database.sessions.begin() as session:
        store = SchoolStore(session)
        store.replace_roster(kind, [(r.form_key, r.person) for r in records])
        people = store.roster_size(kind)
    print(f"Imported {people} {kind_option} from {path.name} ({len(records)} name forms, stored as keyed hashes only).")
    print("The CSV file itself is not kept: delete it from this server if it is no longer needed.")
    return 0


def register_media(app: App, paths: list[Path], own: bool, label: str) -> int:
    from detectors.image_hashes import register_entry

    added = failed = 0
    with app.database.sessions.begin() as session:
        store = SchoolStore(session)
        for path in paths:
            try:
                entry = register_entry(path, own=own, label=label or path.name)
            except Exception as exc:
                print(f"{path}: not registered: {exc}")
                failed += 1
                continue
            store.register_media(entry, app.clock())
            added += 1
    register = "the school's own media" if own else "third-party media"
    print(f"Registered {added} file(s) as {register}" + (f"; {failed} failed" if failed else "") + ".")
    return 0 if not failed else 1
