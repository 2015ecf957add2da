"""One hash over files, used wherever "retrain only when an input changed" is decided."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_fingerprint(paths: Iterable[Path], relative_to: Path) -> str:
    """A hash of the names and contents of the files at or under `paths`; compiled Python
    and Markdown (READMEs train nothing) are left out."""
    digest = hashlib.sha256()
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".md":
                continue
            digest.update(str(file.relative_to(relative_to)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()
