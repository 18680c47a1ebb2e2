"""RunSpec: strict schema, readable errors naming field, value and what is allowed."""

from __future__ import annotations

import pytest

from ftui.core.spec import (
    RunSpec,
    SpecError,
    apply_overrides,
    field_chain,
    field_help,
    flat_values,
    get_value,
    load_yaml_text,
    section_keys,
    set_value,
    spec_field,
    spec_from_dict,
)


def problems(data: dict) -> list[str]:
    with pytest.raises(SpecError) as exc:
        spec_from_dict(data)
    return exc.value.problems


def test_defaults_validate_and_round_trip_through_yaml():
    spec = RunSpec()
    again = spec_from_dict(load_yaml_text(spec.to_yaml()))
    assert again == spec


def test_wrong_type_names_field_value_and_expectation():
    assert problems({"train": {"learning_rate": "fast"}}) == [
        "train.learning_rate: expected a positive number, got 'fast'"
    ]


def test_unknown_key_lists_allowed_keys():
    (line,) = problems({"train": {"lerning_rate": 1e-4}})
    assert line.startswith("train.lerning_rate: unknown key")
    assert "learning_rate" in line


def test_unknown_section():
    (line,) = problems({"trian": {}})
    assert line.startswith("trian: unknown key") and "train" in line


def test_range_checked():
    (line,) = problems({"method": {"lora": {"r": 0}}})
    assert line == "method.lora.r: expected a number >= 1, got 0"


def test_union_field_gives_one_line():
    (line,) = problems({"launch": {"nproc_per_node": "many"}})
    assert line.startswith("launch.nproc_per_node: expected one of 'auto' or a whole number")


def test_literal_lists_choices():
    (line,) = problems({"template": {"name": "vicuna"}})
    assert "chatml" in line and "got 'vicuna'" in line


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"method": {"kind": "qlora"}}, "method.kind: qlora needs model.quantization"),
        (
            {"train": {"epochs": None, "max_steps": None}},
            "train: set train.epochs or train.max_steps",
        ),
        (
            {"template": {"name": "custom", "custom": "Q: {question}\nA: {response}"}},
            "template.custom: unknown placeholder {question}",
        ),
        (
            {
                "template": {"name": "custom", "custom": "{system} {input}\n{response}"},
                "data": {"columns": {"prompt": "q", "response": "a"}},
            },
            "template.custom: uses {input} but data.columns maps no 'input' column",
        ),
        ({"launch": {"nnodes": 2}}, "launch.rdzv_endpoint: multi-node"),
        ({"model": {"trust_remote_code": True}}, "pin model.revision"),
        ({"data": {"eval_split": "none"}, "train": {"eval_steps": 10}}, "data.eval_split is none"),
    ],
)
def test_contradictions_rejected_in_one_place(data, needle):
    assert any(needle in line for line in problems(data)), problems(data)


def test_overrides_coerce_types():
    data = apply_overrides(
        {},
        [
            "train.learning_rate=3e-4",
            "train.max_steps=5",
            "data.packing=true",
            "method.lora.target_modules=[q_proj, k_proj]",
        ],
    )
    spec = spec_from_dict(data)
    assert spec.train.learning_rate == pytest.approx(3e-4)
    assert spec.train.max_steps == 5
    assert spec.data.packing is True
    assert spec.method.lora.target_modules == ["q_proj", "k_proj"]


def test_override_of_unknown_field_is_an_error():
    (line,) = problems(apply_overrides({}, ["train.nope=1"]))
    assert line.startswith("train.nope: unknown key")


def test_bad_override_syntax():
    with pytest.raises(SpecError, match="expected key=value"):
        apply_overrides({}, ["train.learning_rate"])


def test_yaml_python_tags_are_rejected():
    with pytest.raises(SpecError, match="not valid YAML"):
        load_yaml_text("name: !!python/object/apply:os.system ['echo pwned']\n")


def test_every_field_has_help_text():
    def walk(model, prefix=""):
        for name, field in model.model_fields.items():
            path = f"{prefix}{name}"
            assert field.description, f"{path} has no docstring"
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann, path + ".")

    walk(RunSpec)
    assert field_help("train.learning_rate") == "Peak learning rate."


def test_save_is_atomic_and_private(tmp_path):
    path = tmp_path / "spec.yaml"
    RunSpec(name="x").save(path)
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["spec.yaml"]


def test_the_field_walker_follows_sections_and_stops_where_fields_end():
    assert spec_field("method.lora.r").description.startswith("LoRA rank")
    assert [f.annotation.__name__ for f in field_chain("method.lora")] == [
        "MethodSection",
        "LoraSection",
    ]
    assert len(field_chain(("data", "columns", "prompt"))) == 2  # a key inside a dict field
    assert len(field_chain("train.nope")) == 1
    for missing in ("train.nope", "train.seed.x", "nope", ""):
        with pytest.raises(KeyError):
            spec_field(missing)
    assert section_keys()[:3] == ["name", "model", "data"]
    assert "learning_rate" in section_keys("train") and section_keys("train.seed") == []


def test_unknown_keys_and_bounds_in_errors_come_from_the_walker():
    assert problems({"method": {"lora": {"rank": 8}}})[0].startswith(
        "method.lora.rank: unknown key; allowed here: r, alpha, dropout"
    )
    assert problems({"train": {"learning_rate": "x"}}) == [
        "train.learning_rate: expected a positive number, got 'x'"
    ]
    # a union's branch tags are dropped; a key below a dict field is kept
    assert problems({"launch": {"nproc_per_node": "many"}})[0].startswith(
        "launch.nproc_per_node: expected"
    )
    assert problems({"data": {"columns": {"prompt": ["a"]}}})[0].startswith("data.columns.prompt:")


def test_values_by_dotted_path():
    data = RunSpec().model_dump(mode="json")
    assert get_value(data, "train.seed") == 42 and get_value(data, "train.nope") is None
    set_value(data, "method.lora.r", 16)
    set_value(data, "data.columns.prompt", "q")
    assert spec_from_dict(data).method.lora.r == 16
    flat = flat_values(data)
    assert flat["method.lora.r"] == 16 and flat["data.columns.prompt"] == "q"
    with pytest.raises(SpecError, match="--set train.seed.x=1: seed is not a section"):
        apply_overrides(data, ["train.seed.x=1"])


def test_effective_batch_is_batch_times_accumulation_times_processes():
    train = RunSpec(train={"per_device_batch_size": 4, "gradient_accumulation_steps": 8}).train
    assert train.effective_batch() == 32 and train.effective_batch(2) == 64
