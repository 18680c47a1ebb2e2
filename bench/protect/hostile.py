"""Hostile input against the real `ftui` command line: does each end in a clean refusal, in
bounded time and memory?

    python bench/protect/hostile.py [--timeout 120] [--memory-gib 8] [--json out.json] [-k NAME]

Builds the inputs in a temp dir (huge lines, NUL files, invalid UTF-8, deep JSON, wrong
extensions, FIFOs and devices, chat-template bombs, format-string attacks, bad config.yaml and
events.jsonl, bad spec files), runs `ftui validate` / `preview` / `runs` / `export` on each in its
own process with a timeout and an address-space limit (RLIMIT_AS), and prints a table and a
JSON summary: tried / refused cleanly (rc != 0, an `error:` line, no traceback) / handled (rc 0
where that is right, e.g. `ftui runs` skipping a broken line) / traceback / over time / over
memory, with each try's seconds and peak RSS. This process imports only the standard library,
so a child's peak RSS (wait4) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MiB, GiB = 1 << 20, 1 << 30


@dataclass
class Try:
    name: str
    args: list[str]
    expect: str = "refuse"  # or "handle": rc 0 is right (and an `error:` line is not)
    needle: str = ""  # what a handled try prints (stdout)
    outcome: str = ""
    rc: int | None = None
    seconds: float = 0.0
    peak_rss: int = 0
    message: str = ""


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _rows(n: int = 3) -> bytes:
    return b"".join(
        json.dumps({"question": f"q{i}?", "answer": f"a{i}"}).encode() + b"\n" for i in range(n)
    )


def data_inputs(d: Path) -> dict[str, Path]:
    """name -> a data file (data.source)."""
    out: dict[str, Path] = {}

    def put(name: str, content: bytes) -> None:
        out[name] = d / name
        out[name].write_bytes(content)

    big = b"x" * (50 * MiB)
    put("line-50mb.jsonl", _rows() + b'{"question": "' + big + b'", "answer": "a"}\n' + _rows())
    put("line-50mb.txt", b"hello\n" + big + b"\n")
    put("cell-50mb.csv", b'question,answer\nq,"' + big + b'"\n')
    for ext in ("jsonl", "json", "csv", "txt"):
        out[f"nul-1gib.{ext}"] = _sparse(d / f"nul-1gib.{ext}", GiB)
    put("latin1.jsonl", _rows() + b'{"question": "caf\xe9?", "answer": "a"}\n')
    put("latin1.csv", b"question,answer\ncaf\xe9?,a\n")
    put("random-bytes.jsonl", os.urandom(MiB))
    deep = b"[" * 100_000 + b"]" * 100_000
    put("deep.jsonl", _rows() + b'{"question": ' + deep + b', "answer": "a"}\n')
    put("deep.json", deep)
    put("text.parquet", b"hello\nworld\n")
    put("truncated.parquet", b"PAR1" + os.urandom(4096))
    put("empty.jsonl", b"")
    put("not-json.jsonl", b"this is not json\n" * 10)
    put("numbers.json", b"[1, 2, 3]")
    put("strings.jsonl", b'"a"\n"b"\n')
    many = b"".join(
        json.dumps({"question": "w" * 900_000, "answer": "a"}).encode() + b"\n" for _ in range(80)
    )
    put("rows-900kb-x80.jsonl", many)
    fifo = d / "fifo.jsonl"
    os.mkfifo(fifo)
    out["fifo.jsonl"] = fifo
    zero = d / "dev-zero.jsonl"
    zero.symlink_to("/dev/zero")
    out["dev-zero.jsonl"] = zero
    sub = d / "dir-with-fifo"
    sub.mkdir()
    os.mkfifo(sub / "a.jsonl")
    out["dir-with-fifo"] = sub
    return out


TEMPLATES = {
    "nested-range": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
    "{% endfor %}",
    "reused-range": "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}"
    "{% endfor %}",
    "x-times-4e9": "{{ 'x' * 4000000000 }}",
    "range-1e9": "{% for i in range(10**9) %}{% endfor %}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "format-width": "{{ '{:>4000000000}'.format('x') }}",
    "center-filter": "{{ 'x' | center(4000000000) }}",
    "power": "{{ 10 ** 1000000000 }}",
    "recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "sandbox-escape": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "raise-exception": "{{ raise_exception('no') }}",
    "syntax-error": "{% for %}",
}

UNDER_LIMIT = ("rows-900kb-x80.jsonl",)  # each row under data.max_row_bytes: heavy, not hostile
ROW_ERRORS = ("sandbox-escape", "raise-exception", "syntax-error")
CUSTOM = {
    "mro": "{prompt.__class__.__mro__}\n{response}",
    "index": "{prompt[0]}\n{response}",
    "width": "{prompt:>4000000000}\n{response}",
    "conversion": "{prompt!r}\n{response}",
    "positional": "{}\n{response}",
}


def template_models(d: Path) -> dict[str, Path]:
    """name -> a copy of the demo model whose chat template is a bomb."""
    demo = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ftui.core.demo import resolve_model_ref as r;print(r('builtin:demo-tiny-llama'))",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    ).stdout.strip()
    out = {}
    for name, source in TEMPLATES.items():
        model = d / f"model-{name}"
        shutil.copytree(demo, model)
        if (model / "chat_template.jinja").exists():
            (model / "chat_template.jinja").write_text(source)
        else:
            cfg = json.loads((model / "tokenizer_config.json").read_text())
            (model / "tokenizer_config.json").write_text(
                json.dumps({**cfg, "chat_template": source})
            )
        out[name] = model
    return out


def run_dirs(d: Path) -> dict[str, Path]:
    """name -> a runs root holding one broken run."""
    out = {}
    t0 = time.time() - 60
    head = [
        {"t": t0, "type": "status", "status": "running"},
        {"t": t0 + 1, "type": "plan", "total_steps": 40},
        {"t": t0 + 2, "type": "metrics", "step": 5, "loss": 2.0},
    ]
    body = "".join(json.dumps(e) + "\n" for e in head).encode()
    cases = {
        "events-200mb-line": body + b'{"t": 1, "type": "metrics", "x": "' + b"x" * (200 * MiB),
        "events-deep-json": body + b"[" * 200_000 + b"\n",
        "events-nul-1gib": None,
        "events-latin1": body + b'{"t": 1, "type": "status", "status": "caf\xe9"}\n',
    }
    for name, content in cases.items():
        root = d / f"runs-{name}"
        run = root / "demo-20260101-000000"
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({"pid": 999999999, "started": t0}))
        (run / "config.yaml").write_text("name: demo\n")
        if content is None:
            _sparse(run / "events.jsonl", GiB)
        else:
            (run / "events.jsonl").write_bytes(content)
        out[name] = root
    root = d / "runs-garbage-run-json"
    run = root / "demo-20260101-000000"
    run.mkdir(parents=True)
    (run / "run.json").write_bytes(b"\xff\x00 not json")
    (run / "events.jsonl").write_bytes(body)
    out["garbage-run-json"] = root
    return out


def export_runs(d: Path) -> dict[str, Path]:
    configs = {
        "yaml-syntax": b"name: x\nmodel: [unclosed\n",
        "bad-value": b"name: x\ntrain: {epochs: -1}\n",
        "code-tag": b"name: !!python/object/apply:os.system [id]\n",
        "latin1": b"name: caf\xe9\n",
        "alias-bomb": b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        b"g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    }
    out = {}
    for name, content in configs.items():
        run = d / f"export-{name}"
        run.mkdir()
        (run / "config.yaml").write_bytes(content)
        (run / "run.json").write_text("{}")
        out[name] = run
    return out


def spec_files(d: Path) -> dict[str, str]:
    fifo = d / "spec-fifo.yaml"
    os.mkfifo(fifo)
    (d / "spec-latin1.yaml").write_bytes(b"name: caf\xe9\n")
    (d / "spec-nul.yaml").write_bytes(b"name: a\x00b\n")
    return {
        "dev-zero": "/dev/zero",
        "fifo": str(fifo),
        "huge-1gib": str(_sparse(d / "spec-huge.yaml", GiB)),
        "latin1": str(d / "spec-latin1.yaml"),
        "nul-byte": str(d / "spec-nul.yaml"),
    }


def build(d: Path) -> list[Try]:
    tries: list[Try] = []
    for name, path in data_inputs(d).items():
        for verb in ("validate", "preview"):
            t = Try(f"data {name}", [verb, "demo", "--set", f"data.source={path}"])
            if name in UNDER_LIMIT and verb == "preview":  # legal rows: shown, the sample bounded
                t.expect, t.needle = "handle", "statistics over the first"
            tries.append(t)
    for name, model in template_models(d).items():
        over = ["--set", f"model.name_or_path={model}", "--set", "template.name=tokenizer"]
        if name in ROW_ERRORS:  # the row's own error: preview shows it on the row, validate refuses
            shown = Try(
                f"chat template {name}", ["preview", "demo", *over], "handle", "cannot render"
            )
            tries += [shown, Try(f"chat template {name}", ["validate", "demo", *over])]
        else:
            tries.append(Try(f"chat template {name}", ["preview", "demo", *over]))
    for name, text in CUSTOM.items():
        over = ["--set", "template.name=custom", "--set", f"template.custom={json.dumps(text)}"]
        tries.append(Try(f"custom template {name}", ["preview", "demo", *over]))
    for name, root in run_dirs(d).items():
        tries.append(Try(f"run dir {name}", ["runs", "--root", str(root)], "handle", "demo-"))
    for name, run in export_runs(d).items():
        tries.append(Try(f"export config {name}", ["export", str(run), "--out", str(d / "o")]))
    for name, path in spec_files(d).items():
        tries.append(Try(f"spec file {name}", ["validate", path]))
    return tries


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "NO_COLOR": "1",
    }


def run_one(t: Try, work: Path, timeout: float, memory: int) -> None:
    out, err = work / "stdout", work / "stderr"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(
            [sys.executable, "-m", "ftui", *t.args],
            stdin=subprocess.DEVNULL,
            stdout=o,
            stderr=e,
            env=_env(),
            cwd=work,
            preexec_fn=limit,
            start_new_session=True,
        )
    start = time.monotonic()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    t.seconds = round(time.monotonic() - start, 2)
    t.peak_rss = usage.ru_maxrss * 1024
    t.rc = p.returncode
    stderr = err.read_text(errors="replace")
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error: ")]
    t.message = (errors or stderr.strip().splitlines()[-1:] or [""])[0][:160]
    stdout = out.read_text(errors="replace")
    if t.expect == "handle":
        hit = [ln for ln in stdout.splitlines() if t.needle and t.needle in ln]
        t.message = (hit or stdout.strip().splitlines()[-1:] or [""])[0].strip()[:160]
    if timed_out:
        t.outcome = "over time"
    elif "MemoryError" in stderr or t.rc in (-9, -11, 137, 139) or "Cannot allocate" in stderr:
        t.outcome = "over memory"
    elif "Traceback (most recent call last)" in stderr:
        t.outcome = "traceback"
    elif t.expect == "handle" and t.rc == 0 and t.needle in stdout:
        t.outcome = "handled"
    elif t.rc != 0 and errors:
        t.outcome = "refused cleanly"
    else:
        t.outcome = "accepted" if t.rc == 0 else "unclear"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per try (default 120)")
    ap.add_argument("--memory-gib", type=float, default=8.0, help="RLIMIT_AS per try (default 8)")
    ap.add_argument("--json", metavar="FILE", help="also write the results here")
    ap.add_argument("-k", metavar="TEXT", help="only the tries whose name contains TEXT")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ftui-hostile-"))
    try:
        home = work / "home"  # FTUI_HOME stays the user's: the demo model is built once there
        home.mkdir()
        tries = [t for t in build(work) if not args.k or args.k in t.name]
        for i, t in enumerate(tries, 1):
            run_one(t, home, args.timeout, int(args.memory_gib * GiB))
            print(
                f"{i:>3}/{len(tries)} {t.outcome:<16} {t.seconds:>7.1f} s "
                f"{t.peak_rss / MiB:>7.0f} MiB  {t.args[0]:<8} {t.name}: {t.message}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts: dict[str, int] = {}
    for t in tries:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    summary = {
        "tried": len(tries),
        "inputs": len({t.name for t in tries}),
        "outcomes": counts,
        "max_seconds": max((t.seconds for t in tries), default=0),
        "max_peak_rss_mib": round(max((t.peak_rss for t in tries), default=0) / MiB),
        "timeout_s": args.timeout,
        "memory_limit_gib": args.memory_gib,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"summary": summary, "tries": [asdict(t) for t in tries]}, indent=2)
        )
    bad = sum(v for k, v in counts.items() if k not in ("refused cleanly", "handled"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
