"""A multi-turn chat with a loaded model: streaming, stop, live settings, speed.

The history is rendered with the run's own template (`prompt_ids` → `render`), so the chat
sees exactly the prompt format that was trained. Generation runs in a thread and hands text
to the caller through transformers' `TextIteratorStreamer`; `stop()` ends it at the next token.

    session = ChatSession(load_chat_model(run_dir))
    for chunk in session.stream("What is the capital of France?"):
        print(chunk, end="")
    print(session.last_stats)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ftui.core.playground.inference import (
    ChatModel,
    InferenceError,
    bound_max_new_tokens,
    generate_ids,
    prompt_ids,
)
from ftui.core.prompt.templates import Message
from ftui.core.spec import GenerationSection

BASE = "base"  # the adapter setting that means "the base model, adapter switched off"


@dataclass
class GenerationStats:
    new_tokens: int
    seconds: float
    ttft_s: float | None  # time to first token
    stopped: bool  # stopped by the user
    hit_limit: bool  # ended by max_new_tokens rather than EOS

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        ttft = f"{self.ttft_s * 1000:.0f} ms" if self.ttft_s is not None else "-"
        end = "stopped" if self.stopped else ("max_new_tokens" if self.hit_limit else "eos")
        return (
            f"{self.new_tokens} tokens · {self.tokens_per_s:.1f} tok/s · TTFT {ttft} · end: {end}"
        )


def _make_streamer(tokenizer: Any, clock: Callable[[], float]) -> Any:
    from transformers import TextIteratorStreamer

    class _CountingStreamer(TextIteratorStreamer):
        """Counts generated tokens and notes when the first one arrived."""

        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=True, timeout=None, skip_special_tokens=True)
            self.tokens = 0
            self.first_token_at: float | None = None
            self._prompt_seen = False

        def put(self, value: Any) -> None:
            if self._prompt_seen:
                if self.first_token_at is None:
                    self.first_token_at = clock()
                self.tokens += int(value.numel())
            self._prompt_seen = True
            super().put(value)

    return _CountingStreamer()


def _stop_criteria(event: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _EventStop(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full(
                (input_ids.shape[0],), event.is_set(), dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([_EventStop()])


def use_adapter(cm: ChatModel, adapter: str) -> bool:
    """Make `adapter` active (call with cm.lock held). Returns False for BASE (switch it off)."""
    if adapter == BASE:
        return False
    if not cm.has_adapter:
        raise InferenceError("this model has no adapter: only the base model can answer")
    if adapter not in cm.adapters:
        raise InferenceError(
            f"adapter {adapter!r} is not loaded (loaded: {', '.join(cm.adapters)})"
        )
    if cm.model.active_adapter != adapter:
        cm.model.set_adapter(adapter)
    return True


class ChatSession:
    """One conversation. Settings start from the run's spec.generation and can change live."""

    def __init__(
        self,
        cm: ChatModel,
        system_prompt: str | None = None,
        adapter: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.cm = cm
        self.messages: list[Message] = []
        self.system_prompt = (
            system_prompt if system_prompt is not None else (cm.spec.template.system_prompt)
        )
        self.settings = cm.spec.generation.model_copy()
        self.adapter = adapter or ("default" if cm.has_adapter else BASE)
        self.last_stats: GenerationStats | None = None
        self._stop = threading.Event()
        self._clock = clock

    # --- settings -------------------------------------------------------------------------
    def set_settings(self, **values: Any) -> GenerationSection:
        """Validated like the spec (ranges checked); raises ValueError with the field name."""
        from pydantic import ValidationError

        merged = self.settings.model_dump() | values
        try:
            self.settings = GenerationSection.model_validate(merged)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"generation.{err['loc'][0]}: {err['msg']}") from None
        return self.settings

    def set_system_prompt(self, text: str | None) -> None:
        self.system_prompt = text or None

    def set_adapter(self, adapter: str) -> None:
        if adapter != BASE and adapter not in self.cm.adapters:
            raise InferenceError(f"adapter {adapter!r} is not loaded")
        self.adapter = adapter

    def clear(self) -> None:
        self.messages = []
        self.last_stats = None

    def stop(self) -> None:
        """End the running generation after the current token. The flag is reset when a
        generation ends, so a stop that lands just before one starts still ends that one."""
        self._stop.set()

    # --- generation -----------------------------------------------------------------------
    def conversation(self, user_text: str | None = None) -> list[Message]:
        msgs = [Message("system", self.system_prompt)] if self.system_prompt else []
        msgs += self.messages
        if user_text is not None:
            msgs.append(Message("user", user_text))
        return msgs

    def stream(self, user_text: str) -> Iterator[str]:
        """Yield text chunks of the answer; on the end the turn joins the history."""
        cm = self.cm
        ids = prompt_ids(cm, self.conversation(user_text))
        limit = bound_max_new_tokens(cm, len(ids), self.settings.max_new_tokens)
        streamer = _make_streamer(cm.tokenizer, self._clock)
        result: dict[str, Any] = {}
        gen = self.settings.model_dump(exclude={"max_new_tokens"})

        def work() -> None:
            try:
                with cm.lock:
                    adapter_on = use_adapter(cm, self.adapter)
                    result["ids"] = generate_ids(
                        cm.model,
                        cm.tokenizer,
                        ids,
                        cm.spec,
                        max_new_tokens=limit,
                        streamer=streamer,
                        adapter=adapter_on,
                        stopping_criteria=_stop_criteria(self._stop),
                        **gen,
                    )
            except BaseException as exc:  # handed to the consumer, which re-raises it
                result["error"] = exc
                streamer.end()

        started = self._clock()
        thread = threading.Thread(target=work, name="ftui-generate", daemon=True)
        thread.start()
        finished = False
        try:
            for chunk in streamer:
                if chunk:
                    yield chunk
            finished = True
        finally:
            if not finished:  # the caller stopped reading: end the generation too
                self._stop.set()
            thread.join()
            stopped = self._stop.is_set()
            self._stop.clear()
        if "error" in result:
            raise result["error"]
        new_ids = result["ids"]
        seconds = self._clock() - started
        first = streamer.first_token_at
        self.last_stats = GenerationStats(
            new_tokens=streamer.tokens,
            seconds=seconds,
            ttft_s=(first - started) if first is not None else None,
            stopped=stopped,
            hit_limit=len(new_ids) >= limit and not stopped,
        )
        text = cm.tokenizer.decode(new_ids, skip_special_tokens=True).strip()
        self.messages += [Message("user", user_text), Message("assistant", text)]

    def send(self, user_text: str) -> str:
        """The whole answer at once (what `stream` yields, joined)."""
        for _ in self.stream(user_text):
            pass
        return self.messages[-1].content
