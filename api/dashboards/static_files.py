"""The dashboards' static files, plotly.js included, served by the platform itself (no CDN: the
dashboards work offline). plotly.min.js is the one bundled in the installed `plotly` package, so
the chart library's version is the one uv.lock pins."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
CACHE_SECONDS = 3600


def plotly_js() -> Path:
    """plotly/package_data/plotly.min.js of the installed plotly (located without importing it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed: it provides the dashboards' plotly.min.js")
    return Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"


def _files() -> dict[str, Path]:
    return {
        "plotly.min.js": plotly_js(),
        **{path.name: path for path in STATIC_DIR.iterdir() if path.suffix in (".js", ".css")},
    }


MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def static_file(name: str) -> StaticFile | None:
    """One of the allowed files (a fixed list: no path from the request reaches the filesystem);
    None when the name is not one of them."""
    path = _files().get(name)
    return None if path is None else _load(path)


@cache
def _load(path: Path) -> StaticFile:
    """Read and compressed once per process (only allowed files get here, so the cache stays small)."""
    body = path.read_bytes()
    return StaticFile(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        media_type=MEDIA_TYPES[path.suffix],
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )
