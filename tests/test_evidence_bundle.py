"""The evidence bundle: WARC read back with matching digests, screen prints, manifest, export."""

from __future__ import annotations

import base64
import email
import hashlib
import io
import json
import zipfile
from email import policy
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from warcio.archiveiterator import ArchiveIterator

from monitor.cli import main
from monitor.evidence_bundle import alert_attachments, export_alert, tool_version
from storage.custody import CustodyLog
from storage.outbox import Outbox
from storage.repository import Repository
from storage.tables import BlobRow
from tests.evidence_support import START, seed
from tests.exports import comment, post


def hostile_seed(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    return seed(
        tmp_path,
        database_url,
        [
            post(
                "p1",
                "Sports day <img src=http://127.0.0.1:9/x.png> is forbidden\u202e\r\nBcc: x@evil.invalid",
                [comment("c1", "Thank you")],
                media=["images/trip.png"],
            )
        ],
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_export_zip_holds_a_warc_whose_digests_match_the_stored_files(tmp_path: Path, database_url: str) -> None:
    s = hostile_seed(tmp_path, database_url)
    result = export_alert(1, s.app.database, s.app.evidence, tmp_path / "out", s.clock(), s.app.events(), "PC Example")
    assert result.path.name == "hallmon-alert-1-evidence-20261116T090000Z.zip"
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    with zipfile.ZipFile(result.path) as archive:
        files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}

    manifest = json.loads(files["manifest.json"])
    assert manifest["alert_id"] == 1 and manifest["tool"] == tool_version()
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"], entry["name"]
    assert {"evidence.warc.gz", "screen-print.png", "screen-print.pdf", "custody-log.json", "findings.json"} <= {e["name"] for e in manifest["files"]}
    assert hashlib.sha256(files["manifest.json"]).hexdigest() in files["README.txt"].decode()

    with s.app.database.sessions() as session:
        blobs = {row.sha256: row for row in session.query(BlobRow).all()}
    records = list(_records(files["evidence.warc.gz"]))
    assert [r[0] for r in records] == ["warcinfo", "resource", "resource", "metadata"]
    for kind, headers, payload in records:
        if kind != "resource":
            continue
        digest = hashlib.sha256(payload).hexdigest()
        assert digest in blobs, "every resource record is a stored original"
        assert s.app.evidence.read(digest) == payload
        assert headers["WARC-Payload-Digest"] == "sha256:" + base64.b32encode(bytes.fromhex(digest)).decode()
        assert headers["WARC-Target-URI"] == blobs[digest].source_url
        assert headers["WARC-Date"] == "2026-11-16T09:00:00.000000Z"
        assert files[f"originals/{headers['WARC-Hallmon-Role']}-{digest}{'.png' if 'media' in headers['WARC-Hallmon-Role'] else '.json'}"] == payload
    metadata = json.loads(records[-1][2])
    assert metadata["tool"] == tool_version()
    assert metadata["detectors"] == ["keyword@1.2"]
    assert [(f["clause"], f["category"]) for f in metadata["findings"]] == [("appendix-1", "abuse.test")]

    with s.app.database.sessions() as session:
        exported = CustodyLog(session).entries("alert", [1], event="exported")
    assert len(exported) == 1 and exported[0].actor == "PC Example"
    assert exported[0].details["zip_sha256"] == result.sha256
    s.app.close()


def _records(data: bytes):  # type: ignore[no-untyped-def]
    """Read the WARC back with warcio, checking every digest as it goes."""
    iterator = ArchiveIterator(io.BytesIO(data), check_digests=True)
    for record in iterator:
        payload = record.content_stream().read()
        assert record.digest_checker.passed is not False, record.digest_checker.problems
        headers = dict(record.rec_headers.headers)
        yield record.rec_type, headers, payload


def test_alert_email_carries_png_and_pdf_screen_prints_with_hostile_text_as_text(tmp_path: Path) -> None:
    s = hostile_seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    assert s.app.sender().send_due().sent == (1,)
    [eml] = list((s.app.settings.state_dir / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert {"media-1.png", "evidence-summary.json", "screen-print-alert-1.png", "screen-print-alert-1.pdf"} <= set(attachments)
    assert message.get("Bcc") is None

    picture = Image.open(io.BytesIO(attachments["screen-print-alert-1.png"]))
    assert picture.width == 1000 and picture.height > 600
    text = pdf_text(attachments["screen-print-alert-1.pdf"])
    media_sha = hashlib.sha256(attachments["media-1.png"]).hexdigest()
    for expected in ("testschool", "Sports day <img src=http://127.0.0.1:9/x.png> is forbidden", "https://example.invalid/p/p1", media_sha, "2026-11-16 09:00:00 UTC"):
        assert expected in text.replace("\n", " ") or expected in text, expected
    assert "2 invisible formatting or control character(s)" in " ".join(text.split())
    s.app.close()


def test_an_altered_original_is_refused_not_exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = hostile_seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    media = s.app.evidence.path_for(hashlib.sha256((s.export / "images" / "trip.png").read_bytes()).hexdigest())
    media.chmod(0o640)
    media.write_bytes(media.read_bytes()[:-1] + b"\x00")
    code = main(["evidence", "export", "1", "--out", str(tmp_path / "out"), "--config", str(s.app.settings.path)])
    assert code == 1
    assert "no longer matches its SHA-256" in capsys.readouterr().out
    assert not list((tmp_path / "out").glob("*.zip"))
    assert main(["evidence", "export", "99", "--config", str(s.app.settings.path)]) == 1
    assert "There is no alert 99" in capsys.readouterr().out
    s.app.close()


def test_export_command_writes_the_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = hostile_seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    code = main(["evidence", "export", "1", "--out", str(tmp_path / "out"), "--as", "Ms Head", "--config", str(s.app.settings.path)])
    assert code == 0
    [written] = list((tmp_path / "out").glob("hallmon-alert-1-evidence-*.zip"))
    assert str(written) in capsys.readouterr().out
    with zipfile.ZipFile(written) as archive:
        assert archive.testzip() is None
        readme = archive.read("hallmon-alert-1/README.txt").decode()
    assert "EVIDENCE BUNDLE - Hall Monitor alert 1" in readme and "warcio check" in readme
    assert START.year == 2026
    s.app.close()


def test_a_comment_is_printed_with_the_post_it_answers(tmp_path: Path) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    with s.app.database.sessions() as session:
        alert = Outbox(session, Repository(session, s.app.evidence)).load(1)
    attachments = {a.filename: a.data for a in alert_attachments(alert, s.app.evidence, s.app.database)}
    text = " ".join(pdf_text(attachments["screen-print-alert-1.pdf"]).split())
    assert "In reply to: Year 5 trip to the museum" in text
    assert "angry.parent" in text and "Mr Testman is a forbidden disgrace <b>x</b>" in text
    s.app.close()


def test_the_pdf_renderer_may_fetch_nothing_from_the_network() -> None:
    from monitor.screenprint import offline_fetcher

    fetch = offline_fetcher()
    for url in ("http://127.0.0.1:9/x.png", "file:///etc/passwd", "https://example.invalid/a.css"):
        with pytest.raises(ValueError):
            fetch(url)
    assert fetch("data:text/plain;base64,aGk=").read() == b"hi"
