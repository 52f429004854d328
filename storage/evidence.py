"""Content-addressed evidence store: every captured payload and media file, named by SHA-256.

Files are written once, atomically, and made read-only; the same bytes captured twice are stored
once. Capture metadata (time, source URL, content type) lives in the ``evidence_blobs`` table.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put_bytes(self, data: bytes) -> StoredBlob:
        return self.put_chunks([data])

    def put_chunks(self, chunks: Iterable[bytes]) -> StoredBlob:
        """Stream chunks to a temporary file while hashing, then move it into place."""
        digest = hashlib.sha256()
        size = 0
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            final = self.path_for(sha256)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp_name, 0o440)
                os.replace(tmp_name, final)
            return StoredBlob(sha256, size, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_file(self, source: Path, chunk_size: int = 1 << 20) -> StoredBlob:
        with source.open("rb") as handle:
            return self.put_chunks(iter(lambda: handle.read(chunk_size), b""))

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def verify(self, sha256: str) -> bool:
        """True when the stored file still hashes to its name."""
        path = self.path_for(sha256)
        if not path.exists():
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def delete(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if not path.exists():
            return False
        os.chmod(path, 0o640)
        path.unlink()
        return True
