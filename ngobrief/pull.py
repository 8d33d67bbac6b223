"""Pull stage: find each snapshot named in the data manifest and prove its bytes are the ones listed."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import config
from .errors import ManifestError


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    path: Path
    file: str          # path relative to data/
    sha256: str
    bytes: int
    parser: str
    origin: str


def read_manifest(path: Path | None = None) -> dict:
    path = path or config.MANIFEST
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"no data manifest at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bundled_snapshots(manifest: dict | None = None, data_dir: Path | None = None) -> list[Snapshot]:
    """Every snapshot in the manifest, checked against its recorded sha256."""
    manifest = manifest if manifest is not None else read_manifest()
    data_dir = data_dir or config.DATA_DIR
    out = []
    for sid, entry in manifest.get("snapshots", {}).items():
        path = data_dir / entry["file"]
        if not path.is_file():
            raise ManifestError(f"snapshot {sid!r}: file data/{entry['file']} is missing")
        digest = sha256_of(path)
        if digest != entry["sha256"]:
            raise ManifestError(
                f"snapshot {sid!r}: data/{entry['file']} has sha256 {digest}, but the manifest "
                f"records {entry['sha256']}; the bundled file changed — restore it, or pull it again "
                "as a new snapshot")
        out.append(Snapshot(sid, path, entry["file"], digest, path.stat().st_size, entry["parser"],
                            entry.get("origin", f"bundled:data/{entry['file']}")))
    return out
