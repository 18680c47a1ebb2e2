"""`ftui export --check`: does the exported model answer like the trained one, and stop?

The probe prompts (the run's first eval or training rows) go greedily through `ftui chat` on
the run (the reference: what the playground showed), then through each runtime the export
made that runs here: plain transformers with the export's own generation_config.json and chat
template, and the GGUF through llama-cpp-python when it is installed. Each reports answers
identical N/M, the first divergence, and how many answers stopped at an end-of-turn token
rather than at max_new_tokens. A GGUF whose metadata would not stop (wrong EOS) and a
Modelfile whose TEMPLATE would not prompt like training fail even where they cannot run.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.playground.compare import probe_prompts
from ftui.core.playground.divergence import Divergence, divergence
from ftui.core.playground.export import EXPORT_INFO
from ftui.core.playground.generation_config import end_of_turn_markers
from ftui.core.playground.gguf_export import adds_bos, readback_problems
from ftui.core.playground.inference import ChatModel, answer_ids, load_chat_model
from ftui.core.playground.modelfile import CHECK_TURNS, MODELFILE, ollama_prompt, training_prompt
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import RunSpec


@dataclass
class RuntimeCheck:
    runtime: str
    answers: list[str] = field(default_factory=list)
    stopped: list[bool] = field(default_factory=list)
    problem: str | None = None  # a failure that is not about answers (with the fix)
    skipped: str | None = None  # why it did not run here
    # prompt index -> where its answer parts from ftui chat's, and why (near-tie or not)
    parted: dict[int, Divergence] = field(default_factory=dict)

    def identical(self, reference: list[str]) -> int:
        return sum(a == b for a, b in zip(self.answers, reference, strict=False))

    def differing(self, reference: list[str]) -> list[int]:
        return [i for i, (a, b) in enumerate(zip(self.answers, reference, strict=False)) if a != b]

    def ok(self, reference: list[str]) -> bool:
        """Every answer identical, or parting only at near-ties; and every one stopped."""
        if self.problem:
            return False
        if self.skipped:
            return True
        ties = all(i in self.parted and self.parted[i].near_tie for i in self.differing(reference))
        return len(self.answers) == len(reference) and ties and all(self.stopped)


@dataclass
class ParityReport:
    prompts: list[str]
    reference: list[str]
    checks: list[RuntimeCheck]
    max_new_tokens: int

    @property
    def ok(self) -> bool:
        return all(c.ok(self.reference) for c in self.checks)

    def lines(self) -> list[str]:
        n = len(self.prompts)
        out = [
            f"parity: {n} probe prompts, greedy, at most {self.max_new_tokens} new tokens; "
            "reference: ftui chat on the run"
        ]
        for c in self.checks:
            if c.answers:
                differing = c.differing(self.reference)
                ties = sum(c.parted[i].near_tie for i in differing if i in c.parted)
                line = (
                    f"  {c.runtime}: identical {c.identical(self.reference)}/{n}"
                    + (f" ({ties} more part at near-ties)" if ties else "")
                    + f" · stopped at an end-of-turn token {sum(c.stopped)}/{n}"
                )
                out.append(line)
                if differing:
                    first = differing[0]
                    out.append(
                        f"    first divergence, prompt {first + 1} {self.prompts[first]!r}: "
                        f"{c.answers[first]!r} vs ftui chat {self.reference[first]!r}"
                    )
                    if first in c.parted:
                        out.append(f"    {c.parted[first].line()}")
                if not all(c.stopped):
                    out.append(
                        f"    ran to max_new_tokens on prompt {c.stopped.index(False) + 1}: it "
                        "does not stop at the end of its turn"
                    )
            elif c.skipped:
                out.append(f"  {c.runtime}: not run here: {c.skipped}")
            if c.problem:
                out.append(f"  {c.runtime}: FAILED: {c.problem}")
        out.append("parity: ok" if self.ok else "parity: FAILED")
        return out


def export_info(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / EXPORT_INFO).read_text("utf-8"))
    except (OSError, ValueError):
        raise ValueError(
            f"{folder}: not an ftui export (no {EXPORT_INFO}); export it with `ftui export`"
        ) from None
    return info if isinstance(info, dict) else {}


def _transformers(folder: Path, prompts: list[str], max_new: int) -> RuntimeCheck:
    """Plain transformers: the export's own chat template and generation_config.json."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    check = RuntimeCheck("transformers (generation_config.json)")
    from ftui.core.safe_load import load_causal_lm

    adapter_config = folder / "adapter_config.json"
    if adapter_config.is_file():  # the base it names, then the adapter: as a runtime would
        from peft import PeftConfig, PeftModel

        base_ref = PeftConfig.from_pretrained(str(folder)).base_model_name_or_path
        base = load_causal_lm(AutoModelForCausalLM, base_ref, dtype=torch.float32)
        model: Any = PeftModel.from_pretrained(base, str(folder))
    else:
        model = load_causal_lm(AutoModelForCausalLM, folder, dtype=torch.float32)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    gen = GenerationConfig.from_pretrained(folder)
    gen.max_new_tokens = max_new
    ends = gen.eos_token_id if isinstance(gen.eos_token_id, list) else [gen.eos_token_id]
    for prompt in prompts:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=gen)
        new = out[0, ids.shape[1] :].tolist()
        check.answers.append(str(tokenizer.decode(new, skip_special_tokens=True)).strip())
        check.stopped.append(bool(new) and new[-1] in ends and len(new) < max_new)
    return check


def _gguf(
    folder: Path, name: str, spec: RunSpec, tokenizer: Any, prompts: list[str], max_new: int
) -> RuntimeCheck:
    check = RuntimeCheck(f"llama.cpp ({name})")
    markers = end_of_turn_markers(spec, tokenizer)
    problems = readback_problems(folder / name, markers[0], tokenizer)
    if problems:
        check.problem = (
            "; ".join(problems) + f". Fix: re-export with `ftui export RUN --gguf TYPE`, which "
            f"writes EOS {markers[0]!r}, or pass `--override-kv tokenizer.ggml.eos_token_id="
            f"int:{tokenizer.convert_tokens_to_ids(markers[0])}` to llama.cpp"
        )
    if importlib.util.find_spec("llama_cpp") is None:
        check.skipped = (
            "llama-cpp-python is not installed (pip install llama-cpp-python); its metadata "
            f"is checked: EOS {markers[0]!r}, the chat template, add_bos_token"
        )
        return check
    from llama_cpp import Llama  # type: ignore[import-not-found]

    llm = Llama(model_path=str(folder / name), n_ctx=2048, verbose=False, seed=0)
    for prompt in prompts:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        # The text, as a server would send it; llama.cpp tokenises it (special tokens, BOS).
        ids = llm.tokenize(text.encode("utf-8"), add_bos=adds_bos(tokenizer), special=True)
        out = llm.create_completion(ids, max_tokens=max_new, temperature=0.0, top_k=1)
        choice = out["choices"][0]
        check.answers.append(str(choice["text"]).strip())
        check.stopped.append(choice.get("finish_reason") == "stop")
    return check


def _modelfile(folder: Path, spec: RunSpec, tokenizer: Any) -> RuntimeCheck:
    """Ollama itself is not run here: its TEMPLATE is rendered and its stops are read."""
    import re

    check = RuntimeCheck(
        "ollama (Modelfile)",
        skipped="ollama is not run by --check; its TEMPLATE renders the training prompt and "
        "every end-of-turn marker is a stop",
    )
    text = (folder / MODELFILE).read_text("utf-8")
    template = re.search(r'^TEMPLATE """(.*?)"""$', text, re.S | re.M)
    system = re.search(r'^SYSTEM """(.*?)"""$', text, re.S | re.M)
    stops = [json.loads(s) for s in re.findall(r"^PARAMETER stop (.*)$", text, re.M)]
    missing = [m for m in end_of_turn_markers(spec, tokenizer) if m not in stops]
    if missing:
        check.problem = f"no PARAMETER stop for {', '.join(missing)}; add one per marker"
    elif template is not None:
        bos = str(tokenizer.bos_token) if adds_bos(tokenizer) else ""
        got = bos + ollama_prompt(
            template.group(1), list(CHECK_TURNS), system.group(1) if system else None
        )
        if got != training_prompt(spec, tokenizer, list(CHECK_TURNS), None):
            check.problem = "TEMPLATE does not render the training prompt; re-export it"
    return check


def check_export(folder: str | Path, limit: int = 5) -> ParityReport:
    from transformers import AutoTokenizer

    out = Path(folder)
    info = export_info(out)
    run = Path(info["run"])
    # The weights the export was made from, even where the run's default has moved since.
    weights = str(info.get("weights", ""))
    step = weights.removeprefix(RunPaths.CHECKPOINT_PREFIX)
    checkpoint = int(step) if weights != step and step.isdigit() else info.get("checkpoint")

    def load() -> ChatModel:
        return load_chat_model(run, checkpoint=checkpoint, device="cpu")

    cm = load()
    spec = cm.spec
    prompts = [p.prompt for p in probe_prompts(spec, limit)]
    max_new = spec.generation.max_new_tokens
    reference_ids = [answer_ids(cm, p, temperature=0.0, max_new_tokens=max_new) for p in prompts]
    reference = [
        str(cm.tokenizer.decode(ids[1], skip_special_tokens=True)).strip() for ids in reference_ids
    ]
    del cm  # one model in memory at a time: the runtimes load theirs next
    tokenizer = AutoTokenizer.from_pretrained(out)
    checks = [_transformers(out, prompts, max_new)]
    for gguf in sorted(p.name for p in out.glob("*.gguf")):
        checks.append(_gguf(out, gguf, spec, tokenizer, prompts, max_new))
    if (out / MODELFILE).is_file():
        checks.append(_modelfile(out, spec, tokenizer))
    if any(c.differing(reference) for c in checks):
        _explain_partings(load(), checks, reference, reference_ids)
    return ParityReport(prompts, reference, checks, max_new)


def _explain_partings(
    cm: ChatModel,
    checks: list[RuntimeCheck],
    reference: list[str],
    reference_ids: list[tuple[list[int], list[int]]],
) -> None:
    """For each answer that differs: the trained model's odds of both tokens where it parts."""
    for c in checks:
        for i in c.differing(reference):
            ids, new = reference_ids[i]
            with cm.lock:
                found = divergence(cm.model, cm.tokenizer, ids, new, c.answers[i])
            if found is not None:
                c.parted[i] = found
