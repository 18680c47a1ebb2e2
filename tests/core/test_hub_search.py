"""Hub search says plainly when it cannot search (offline), instead of finding nothing."""

from __future__ import annotations

import pytest

from ftui.core.model.hub import ModelError
from ftui.core.model.search import search_models


def test_offline_search_explains_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=1 is set. Type an exact hub id"):
        search_models("llama")
