"""Find models on the Hugging Face hub by name, for the wizard's Model step.

Offline (HF_HUB_OFFLINE=1) there is nothing to search: `search_models` says so plainly and
what to do instead, rather than returning an empty list that looks like "no such model".
"""

from __future__ import annotations

from dataclasses import dataclass

from ftui.core.model.hub import ModelError, is_offline

OFFLINE_HINT = (
    "hub search is off: HF_HUB_OFFLINE=1 is set. Type an exact hub id or a local path, or pick "
    "a model from the cache below"
)


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    downloads: int
    gated: bool


def search_models(query: str, limit: int = 8) -> list[HubModel]:
    """Text-generation models whose id contains `query`, most downloaded first."""
    if is_offline():
        raise ModelError(OFFLINE_HINT)
    from huggingface_hub import HfApi

    try:
        found = HfApi().list_models(
            search=query, pipeline_tag="text-generation", sort="downloads", limit=limit
        )
        return [HubModel(m.id, int(m.downloads or 0), bool(m.gated)) for m in found if m.id]
    except Exception as exc:  # connection, proxy, DNS, rate limits
        raise ModelError(
            f"hub search failed ({type(exc).__name__}); check the network or proxy "
            "(HTTPS_PROXY), or type an exact hub id"
        ) from None
