"""The exported model's README.md (a Hugging Face model card) and its chat template.

The card states what the model is: base model, dataset, prompt template and every
hyperparameter, all read from the run's config.yaml (plus the last loss from events.jsonl),
and its evaluation: the eval card (eval loss, best checkpoint, the forgetting meter).
"""

from __future__ import annotations

import json
from pathlib import Path

from ftui.core.demo import DEMO_MODEL_REF
from ftui.core.runs.benchmark import read_benchmark
from ftui.core.runs.checkpoints import recorded_eval_loss
from ftui.core.runs.eval_card import eval_card_lines
from ftui.core.runs.events import read_events, to_float
from ftui.core.runs.forgetting import SAMPLE_NAME, read_forgetting
from ftui.core.runs.metrics import format_value
from ftui.core.spec import RunSpec, TemplateSection


def template_jinja(t: TemplateSection) -> str | None:
    """A Jinja chat template that renders exactly as ftui's template, where one exists."""
    default = (
        "{%- if messages[0]['role'] != 'system' %}" + _system_block(t) + "{%- endif %}"
        if t.system_prompt
        else ""
    )
    if t.name == "chatml":
        return (
            default
            + "{%- for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] "
            "+ '<|im_end|>' + '\\n' }}{%- endfor %}"
            "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
        )
    if t.name == "llama3":
        return (
            "{{ bos_token }}"
            + default
            + "{%- for m in messages %}{{ '<|start_header_id|>' + m['role'] + "
            "'<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
            "{%- if add_generation_prompt %}"
            "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
        )
    return None


def _system_block(t: TemplateSection) -> str:
    text = json.dumps(t.system_prompt)
    if t.name == "chatml":
        return "{{ '<|im_start|>system\\n' + " + text + " + '<|im_end|>\\n' }}"
    if t.name == "llama3":
        return (
            "{{ '<|start_header_id|>system<|end_header_id|>\\n\\n' + "
            + text
            + " | trim + '<|eot_id|>' }}"
        )
    return ""


def _training_summary(run: Path) -> tuple[int | None, float | None]:
    step, loss = None, None
    for ev in read_events(run):
        if ev.get("type") == "metrics":
            step = ev.get("step", step)
            loss = to_float(ev.get("loss"))
    return step, loss


def _evaluation(run: Path, weights: Path) -> list[str]:
    """The eval card (`ftui.core.runs.eval_card`) and these weights' own eval loss."""
    card = eval_card_lines(run)
    if not card:
        return []
    out = ["", "## Evaluation", ""] + [f"- {line}" for line in card]
    loss = recorded_eval_loss(weights)
    if loss is not None:
        out.append(f"- these weights (`{weights.name}/`): eval loss {format_value(loss)}")
    if read_forgetting(run) is not None:
        out.append(
            f"- general-text sample: {SAMPLE_NAME}, public domain; the loss is the mean per "
            "token, base = the same model before fine-tuning (LoRA: the adapter disabled)"
        )
    bench = read_benchmark(run)
    if version := bench.get("lm_eval_version"):
        out.append(
            f"- lm-eval: EleutherAI's harness {version} (`ftui eval`); base = the base model, "
            f"tuned = the run's `{bench.get('weights')}/`; a few samples a task: a quick look, "
            "not a leaderboard score"
        )
    return out


def _is_hub_id(name: str) -> bool:
    return not name.startswith("builtin:") and not Path(name).exists() and name.count("/") == 1


def model_card(
    spec: RunSpec, run: Path, weights: Path, merged: bool, notes: list[str] | None = None
) -> str:
    base = spec.model.name_or_path
    kind = "merged model" if merged else ("adapter" if spec.method.kind != "full" else "model")
    lora = spec.method.lora
    step, loss = _training_summary(run)
    front = ["---", "library_name: " + ("peft" if kind == "adapter" else "transformers")]
    if _is_hub_id(base):
        front.append(f"base_model: {base}")
    front += ["tags:", "- ftui", f"- {spec.method.kind}", "---", ""]
    lines = front + [
        f"# {spec.name} ({kind})",
        "",
        f"Fine-tuned with ftui from run `{run.name}` (weights from `{weights.name}/`).",
        "",
    ]
    if base == DEMO_MODEL_REF:  # the random toy; builtin:smollm2-135m-instruct is pretrained
        lines += [
            "This is ftui's offline demo: the base is a tiny random-init model, not a "
            "pretrained LLM. It only knows what the demo data taught it.",
            "",
        ]
    t = spec.template
    rows = [
        ("base model", base + (f" @ {spec.model.revision}" if spec.model.revision else "")),
        ("base dtype / quantization", f"{spec.model.dtype} / {spec.model.quantization}"),
        ("dataset", spec.data.source + (f" ({spec.data.subset})" if spec.data.subset else "")),
        ("split / eval split", f"{spec.data.split} / {spec.data.eval_split or '-'}"),
        ("format / columns", f"{spec.data.format} / {json.dumps(spec.data.columns) or '-'}"),
        ("max_seq_len / packing", f"{spec.data.max_seq_len} / {spec.data.packing}"),
        ("template", t.name + (" (custom: " + json.dumps(t.custom) + ")" if t.custom else "")),
        ("system prompt", json.dumps(t.system_prompt) if t.system_prompt else "-"),
        ("train on input", str(t.train_on_input)),
        ("method", spec.method.kind),
    ]
    if spec.method.kind != "full":
        rows += [
            ("LoRA r / alpha / dropout", f"{lora.r} / {lora.alpha} / {lora.dropout}"),
            ("target modules", json.dumps(lora.target_modules)),
            ("modules to save", json.dumps(lora.modules_to_save) if lora.modules_to_save else "-"),
            ("DoRA / rsLoRA", f"{lora.use_dora} / {lora.use_rslora}"),
        ]
    tr = spec.train
    rows += [(f"train.{k}", str(v)) for k, v in tr.model_dump().items()]
    rows += [
        (
            "GPUs x nodes / strategy",
            f"{spec.launch.nproc_per_node} x {spec.launch.nnodes} / {spec.launch.strategy}",
        )
    ]
    if step is not None:
        rows.append(("last logged step / loss", f"{step} / {format_value(loss)}"))
    lines += ["## Training", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows]
    lines += _evaluation(run, weights)
    lines += ["", "## Use", "", "```python"]
    if kind == "adapter":
        lines += [
            "from peft import AutoPeftModelForCausalLM",
            "model = AutoPeftModelForCausalLM.from_pretrained(PATH)",
        ]
    else:
        lines += [
            "from transformers import AutoModelForCausalLM",
            "model = AutoModelForCausalLM.from_pretrained(PATH)",
        ]
    lines += [
        "```",
        "",
        f"Prompts must be formatted with the `{t.name}` template the model was trained with "
        "(the tokenizer's chat template does this where ftui could write one).",
    ]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
