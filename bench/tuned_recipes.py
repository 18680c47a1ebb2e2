"""The tuned recipes: what a user who tunes HF Trainer or TRL's SFTTrainer for speed writes.

They train the same rows, LoRA, batch and precision as the recipes in `recipes.py`, and are
measured the same way (`recipes.timed_train`, `recipes.Counting`).
"""

from __future__ import annotations

from typing import Any

from recipes import LORA, Counting, Measured, Setup, _bf16, _common_args, sft_recipe, timed_train


def sft_tuned_settings(precision: str) -> dict[str, Any]:
    """SFTConfig fields (TRL 1.16's names) a user sets who tunes SFTTrainer for speed on the
    CPU: gradient checkpointing off, length-grouped batches, the loss on the completion only,
    the bench's precision (bf16: the weights loaded in bf16 too, as ftui does). Not set: padding_free (TRL supports it only with FlashAttention 2/3,
    not sdpa; its packing path would force it), and no option turns off the entropy and token
    accuracy TRL 1.16 computes every step in its chunked LM head (SFTTrainer.__init__ fixes
    outputs=("log_probs", "entropy", "is_top1"))."""
    out: dict[str, Any] = {
        "gradient_checkpointing": False,
        "train_sampling_strategy": "group_by_length",
        "completion_only_loss": True,
        "padding_free": False,
        "bf16": precision == "bf16",
    }
    if precision == "bf16":
        out["model_init_kwargs"] = {"dtype": "bfloat16"}
    return out


def sft_tuned_recipe(s: Setup, raw: Any, precision: str) -> Measured:
    """SFTTrainer tuned (`sft_tuned_settings`) on the same conversations as `sft_recipe`."""
    return sft_recipe(s, raw, tuned=sft_tuned_settings(precision))


def hf_grouped_recipe(s: Setup, tokenised: Any, precision: str | None = None) -> Measured:
    """HF Trainer as a careful user writes it: length-grouped batches (`train_sampling_strategy=
    "group_by_length"`) padded to the batch's longest row (DataCollatorForSeq2Seq), on the same
    tokens (ftui's tokenisation) and LoRA."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(s.model_dir)
    if tok.pad_token_id is None:
        tok.pad_token_id = int(s.extra["pad_id"])
    dtype = torch.bfloat16 if _bf16(s, precision) else torch.float32
    model = AutoModelForCausalLM.from_pretrained(s.model_dir, dtype=dtype)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **LORA))
    m = Measured()
    args = TrainingArguments(
        **_common_args(s),
        bf16=_bf16(s, precision),
        learning_rate=2e-4,
        train_sampling_strategy="group_by_length",
    )
    collator = DataCollatorForSeq2Seq(tok, padding="longest", label_pad_token_id=-100)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=tokenised,
        data_collator=Counting(collator, m),
        processing_class=tok,
    )
    return timed_train(trainer, m, s.cuda)
