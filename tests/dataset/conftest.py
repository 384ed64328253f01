"""Every dataset test runs with its own cache directory and can never reach a real host."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsc_files import closed_port


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache directory, no MACHOP_DATA_DIR, download URLs pointing at a closed port."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(cache))
    monkeypatch.delenv("MACHOP_DATA_DIR", raising=False)
    dead = f"http://127.0.0.1:{closed_port()}/jsc"
    monkeypatch.setenv("MACHOP_JSC_CERNBOX_URL", dead)
    monkeypatch.setenv("MACHOP_OPENML_API_URL", dead)
    return cache
