"""Clinical vignettes for the Tune priors and Validation pages: loading and scoring.

The scores come from :func:`model.vignettes.evaluate`; this module only turns its results
into plain rows (cached per priors and vignette file) for tables.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from model import ToeTwitchModel, VignetteError
from model.errors import Problem
from model.vignettes import Vignette, evaluate, load_vignettes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIGNETTES = ROOT / "tests" / "vignettes.yaml"
DEFAULT_VIGNETTES_NAME = "tests/vignettes.yaml"
MAX_UPLOAD_MB = 1
MAX_UPLOAD_BYTES = 1_000_000  # the YAML reader's own limit (model.safe_yaml.MAX_BYTES)


@dataclass(frozen=True)
class VignetteSet:
    vignettes: list[Vignette]
    key: str  # cache key: where they came from and a hash or time of the content
    label: str  # for people: "tests/vignettes.yaml" or the uploaded file's name


@st.cache_data(show_spinner=False, max_entries=4)
def _load_default(path: str, mtime: float) -> list[Vignette]:
    return load_vignettes(path)


def default_vignettes() -> VignetteSet:
    """The shipped vignettes (re-read when the file changes). Raises VignetteError."""
    mtime = DEFAULT_VIGNETTES.stat().st_mtime
    return VignetteSet(
        _load_default(str(DEFAULT_VIGNETTES), mtime), f"default:{mtime}", DEFAULT_VIGNETTES_NAME
    )


def safe_name(name: str) -> str:
    """A file name without folders or odd characters (for messages and temporary files)."""
    base = Path(name or "vignettes.yaml").name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:80] or "vignettes.yaml"


def vignettes_from_upload(name: str, data: bytes) -> VignetteSet:
    """Validate an uploaded vignette file; raise VignetteError naming every problem.

    The checks are those of :func:`model.vignettes.load_vignettes` (it reads a path, so the
    bytes go to a private temporary file first); messages name the uploaded file.
    """
    shown = safe_name(name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise VignetteError(
            shown, [Problem("", f"file is {len(data) / 1e6:.1f} MB; the limit is 1 MB")]
        )
    with tempfile.TemporaryDirectory(prefix="vignettes-") as folder:
        path = Path(folder) / shown
        path.write_bytes(data)
        try:
            vignettes = load_vignettes(path)
        except VignetteError as exc:
            raise VignetteError(shown, exc.problems) from None
    digest = hashlib.sha256(data).hexdigest()[:20]
    return VignetteSet(vignettes, f"upload:{digest}", shown)


@st.cache_data(show_spinner=False, max_entries=64)
def outcomes(
    priors_key: str, vignettes_key: str, _model: ToeTwitchModel, _vignettes: list[Vignette]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One plain row per vignette, and the summary scores (cached per priors and file)."""
    evaluation = evaluate(_model, _vignettes)
    rows = []
    for r in evaluation.results:
        v, d = r.vignette, r.diagnosis
        expected = list(v.expect.top1 or v.expect.top3)
        ranks = [i for i, (c, _) in enumerate(d.ranking, start=1) if c in expected]
        rows.append(
            {
                "id": v.id,
                "story": v.story,
                "top": d.top,
                "top_probability": d.ranking[0][1],
                "expected": expected,
                "expected_rank": min(ranks) if ranks else None,
                "urgency": d.urgency,
                "expected_urgency": list(v.expect.urgency),
                "top1_ok": r.top1_ok,
                "top3_ok": r.top3_ok,
                "urgency_ok": r.urgency_ok,
                "under_triaged": r.under_triaged,
            }
        )
    return rows, dict(evaluation.summary)


def mark(ok: bool | None) -> str:
    """✓, ✗, or – when the vignette does not judge this."""
    return "–" if ok is None else ("✓" if ok else "✗")
