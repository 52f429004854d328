"""A WARC file (ISO 28500, WARC/1.1, via warcio) of one alert's evidence.

Each captured original becomes a ``resource`` record: the exact stored bytes, the URI they came
from, the capture time as WARC-Date, and SHA-256 block and payload digests (base32, as the WARC
standard shows), so ``warcio check`` and anyone else can confirm the bytes are unchanged. We write
``resource`` rather than ``response`` records because we kept the response bodies, not their
HTTP headers, and a WARC must not invent headers. A ``metadata`` record carries the tool and
detector versions and the findings.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class WarcResource:
    uri: str
    captured_at: datetime
    content_type: str
    path: Path
    sha256: str
    role: str


def sha256_label(hex_digest: str) -> str:
    """``sha256:BASE32`` as WARC digests are written."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def warc_date(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_warc(
    out: BinaryIO,
    resources: Sequence[WarcResource],
    metadata: Mapping[str, Any],
    metadata_uri: str,
    created_at: datetime,
    software: str,
) -> list[str]:
    """Write a gzipped WARC; returns the record ids of the resource records in order."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = writer.create_warcinfo_record(
        "evidence.warc.gz",
        {
            "software": software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": "Evidence captured by Hall Monitor: original platform payloads and media, unaltered.",
        },
    )
    info.rec_headers.replace_header("WARC-Date", warc_date(created_at))
    writer.write_record(info)
    ids: list[str] = []
    for resource in resources:
        data = resource.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != resource.sha256:  # refuse to package a file that changed since capture
            raise ValueError(f"evidence file {resource.path} no longer matches its SHA-256 {resource.sha256}")
        label = sha256_label(digest)
        record = writer.create_warc_record(
            resource.uri,
            "resource",
            payload=io.BytesIO(data),
            length=len(data),
            warc_content_type=resource.content_type or "application/octet-stream",
            warc_headers_dict={
                "WARC-Date": warc_date(resource.captured_at),
                "WARC-Block-Digest": label,
                "WARC-Payload-Digest": label,
                "WARC-Hallmon-Role": resource.role,
            },
        )
        writer.write_record(record)
        ids.append(str(record.rec_headers.get_header("WARC-Record-ID")))
    body = json.dumps(dict(metadata), indent=2, ensure_ascii=False, default=str).encode("utf-8")
    meta = writer.create_warc_record(
        metadata_uri,
        "metadata",
        payload=io.BytesIO(body),
        length=len(body),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Date": warc_date(created_at)},
    )
    if ids:
        meta.rec_headers.add_header("WARC-Concurrent-To", ids[0])
    writer.write_record(meta)
    return ids
