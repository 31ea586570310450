"""Fuzz netcert with the property tests' strategies for a given time; failing inputs to a directory.

    python benchmarks/fuzz.py --minutes 3 --out fuzz-out [--only engines,data.csv,...] [--seed S]
    python benchmarks/fuzz.py --minutes 3 --out fuzz-out --atheris

The strategies are tests/strategies.py's, the ones tests/test_properties.py runs for a fixed
number of derandomized examples: ``engines`` (random networks and datasets; every engine of the
fast evaluator, the trusted kernel and the Fraction oracle must agree on every output) and one
per mutation target (``net.json``, ``net.json.gz``, ``net.json.gz content``, ``data.npz``,
``data.npz X.npy``, ``data.npz y.npy``, ``data.csv``, ``a.cert.json``, ``b.cert.json``: byte
mutations of a valid file, after which ``netcert check``/``verify``/``inspect`` must keep the
command line's contract). Here they run round robin, in batches of random (not derandomized)
examples, until the time is up, and a table is printed: strategy, runs, failures (runs that
broke something), distinct failures, runs/s.

Every failing input is written under ``--out``: ``<strategy>/<hash>/`` holds the input file under
its corpus name (or ``case.json`` for an engine disagreement: the network document, the exact
points, the labels made wrong), ``command.txt`` (the command line, file names relative to that
directory, the other corpus files beside it) and ``message.txt`` (exit code, the traceback's
last line or what was wrong, and where), so that it can become a hostile-corpus case.

``--atheris``: a coverage-guided harness (atheris 3.0.0 installs here from its wheel, ``pip
install atheris``) over the readers alone, instead of the strategies: ``dataset.load`` (.npz,
.csv), ``formats.netjson.read`` (.json, .json.gz), ``certify.read_certificate`` and the kernel's
``kernel.read.read_dataset`` and ``read_network``. netcert's readers may raise only
``NetcertError`` (anything else is a traceback for a user); the kernel's may raise any
``Exception`` (its ``check`` turns each into a failed claim), so there only hangs, memory blowups
and non-``Exception`` escapes count. It runs in a child process under libFuzzer
(``-max_total_time``, ``-rss_limit_mb=2048``, ``-timeout=30``), seeded with the corpus files; its
wall time is shared among the readers in proportion to their runs (one runs/s for all).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BATCH = 25  # examples per hypothesis run; the clock is read between runs
READERS = (
    "dataset .npz",
    "dataset .csv",
    "netjson .json",
    "netjson .json.gz",
    "read_certificate",
    "kernel dataset .npz",
    "kernel dataset .csv",
    "kernel network .json",
    "kernel network .json.gz",
)
SUFFIX = {
    "dataset .npz": ".npz",
    "dataset .csv": ".csv",
    "netjson .json": ".json",
    "netjson .json.gz": ".json.gz",
    "read_certificate": ".cert.json",
    "kernel dataset .npz": ".npz",
    "kernel dataset .csv": ".csv",
    "kernel network .json": ".json",
    "kernel network .json.gz": ".json.gz",
}


@dataclass
class Tally:
    """What one strategy did: examples run, examples that failed, distinct failures, seconds spent."""

    runs: int = 0
    failures: int = 0
    seconds: float = 0.0
    distinct: set = field(default_factory=set)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def _save(out: Path, strategy: str, files: dict[str, bytes], command: str, message: str) -> Path:
    """Write one failing input (and the corpus files beside it) under out/<strategy>/<hash>/."""
    key = hashlib.sha256(
        json.dumps(sorted((k, v.hex()) for k, v in files.items())).encode() + command.encode()
    ).hexdigest()[:12]
    where = out / _slug(strategy) / key
    where.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (where / name).write_bytes(content)
    (where / "command.txt").write_text(command + "\n")
    (where / "message.txt").write_text(message + "\n")
    return where


def _engines_batch(strategies, seed: int, tally: Tally, out: Path) -> None:
    """One batch of random networks and datasets through ``check_evaluation``."""
    from hypothesis import given
    from hypothesis import seed as hseed
    from netcert.formats import netjson

    @hseed(seed)
    @_settings()
    @given(case=strategies.evaluation_cases())
    def one(case):
        tally.runs += 1
        try:
            strategies.check_evaluation(case)
        except Exception as e:  # noqa: BLE001 (a disagreement or a crash: both are findings)
            tb = traceback.extract_tb(e.__traceback__)
            message = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            tally.failures += 1
            tally.distinct.add((type(e).__name__, where))
            points = [[str(q) for q in case.data.point(i)] for i in range(case.data.n)]
            doc = {"network": json.loads(netjson.to_bytes(case.G)), "points": points, "wrong": sorted(case.wrong)}
            _save(
                out,
                "engines",
                {"case.json": json.dumps(doc, indent=1).encode()},
                "python -c 'tests/strategies.py: check_evaluation on case.json'",
                f"{message} (at {where})",
            )

    one()


def _mutation_batch(strategies, target, seed: int, tally: Tally, out: Path) -> None:
    """One batch of mutations of ``target``'s file through its commands."""
    from click.testing import CliRunner
    from hypothesis import given
    from hypothesis import seed as hseed

    runner = CliRunner()

    @hseed(seed)
    @_settings()
    @given(raw=strategies.mutated_file(target))
    def one(raw):
        tally.runs += 1
        crashes = strategies.run_mutation(target, raw, runner)
        tally.failures += bool(crashes)
        for crash in crashes:
            tally.distinct.add(crash.key)
            files = {**strategies.corpus(), target.file: crash.data}
            _save(
                out,
                target.name,
                files,
                "netcert " + " ".join(crash.command),
                f"exit {crash.exit_code}: {crash.message}" + (f" (at {crash.where})" if crash.where else ""),
            )

    one()


def _settings():
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=BATCH,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def fuzz(minutes: float, out: Path, only: list[str] | None, seed: int) -> dict[str, Tally]:
    """Run the strategies round robin for ``minutes``; their tallies."""
    import strategies

    names = ["engines", *(t.name for t in strategies.TARGETS)]
    chosen = [n for n in names if only is None or n in only]
    if not chosen:
        raise SystemExit(f"no strategy among {only}; the strategies: {', '.join(names)}")
    targets = {t.name: t for t in strategies.TARGETS}
    tallies = {n: Tally() for n in chosen}
    rng = random.Random(seed)
    stop = time.monotonic() + 60 * minutes
    while time.monotonic() < stop:
        for name in chosen:
            if time.monotonic() >= stop:
                break
            start = time.monotonic()
            if name == "engines":
                _engines_batch(strategies, rng.getrandbits(64), tallies[name], out)
            else:
                _mutation_batch(strategies, targets[name], rng.getrandbits(64), tallies[name], out)
            tallies[name].seconds += time.monotonic() - start
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    rows = ["| strategy | runs | failures | distinct | runs/s |", "|---|---:|---:|---:|---:|"]
    for name, t in tallies.items():
        rate = t.runs / max(t.seconds, 1e-9)
        rows.append(f"| {name} | {t.runs:,} | {t.failures:,} | {len(t.distinct)} | {rate:.1f} |")
    total = sum(t.runs for t in tallies.values()), sum(t.failures for t in tallies.values())
    rows.append(
        f"| all | {total[0]:,} | {total[1]:,} | {sum(len(t.distinct) for t in tallies.values())} | "
        f"{total[0] / max(sum(t.seconds for t in tallies.values()), 1e-9):.1f} |"
    )
    return "\n".join(rows)


# -- atheris -----------------------------------------------------------------------------------


def _atheris_child(seconds: int, out: Path) -> None:
    """The libFuzzer process: instrument netcert, fuzz the readers, count into out/atheris-stats.json."""
    import atheris

    with atheris.instrument_imports(include=["netcert"]):  # netcert's code only: sympy's takes minutes
        from netcert import dataset, certify
        from netcert.errors import NetcertError
        from netcert.formats import netjson
        from netcert.kernel import read as kread
    import strategies

    calls = {
        "dataset .npz": dataset.load,
        "dataset .csv": dataset.load,
        "netjson .json": netjson.read,
        "netjson .json.gz": netjson.read,
        "read_certificate": certify.read_certificate,
        "kernel dataset .npz": kread.read_dataset,
        "kernel dataset .csv": kread.read_dataset,
        "kernel network .json": kread.read_network,
        "kernel network .json.gz": kread.read_network,
    }
    stats = {r: {"runs": 0, "failures": 0, "distinct": []} for r in READERS}
    scratch = Path(tempfile.mkdtemp(prefix="netcert-atheris-"))
    last = [time.monotonic()]

    def flush() -> None:
        (out / "atheris-stats.json").write_text(json.dumps(stats))
        last[0] = time.monotonic()

    def test_one_input(data: bytes) -> None:
        if not data:
            return
        reader = READERS[data[0] % len(READERS)]
        path = scratch / f"input{SUFFIX[reader]}"
        path.write_bytes(data[1:])
        stats[reader]["runs"] += 1
        try:
            calls[reader](path)
        except NetcertError:
            pass
        except Exception as e:  # noqa: BLE001
            if not reader.startswith("kernel"):  # the kernel's check records any Exception as a failure
                _atheris_failure(stats[reader], reader, data[1:], e, out)
        if time.monotonic() - last[0] > 2:
            flush()

    seeds = out / "atheris-corpus"
    seeds.mkdir(parents=True, exist_ok=True)
    files = strategies.corpus()
    for k, reader in enumerate(READERS):
        name = {
            ".npz": "data.npz",
            ".csv": "data.csv",
            ".json": "net.json",
            ".json.gz": "net.json.gz",
            ".cert.json": "a.cert.json",
        }[SUFFIX[reader]]
        (seeds / f"seed-{k}").write_bytes(bytes([k]) + files[name])
    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={seconds}",
            "-rss_limit_mb=2048",
            "-timeout=30",
            f"-artifact_prefix={out}/atheris-",
            str(seeds),
        ],
        test_one_input,
    )
    import atexit

    atexit.register(flush)
    atheris.Fuzz()


def _atheris_failure(stat: dict, reader: str, data: bytes, e: Exception, out: Path) -> None:
    tb = traceback.extract_tb(e.__traceback__)
    where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    stat["failures"] += 1
    key = f"{type(e).__name__} at {where}"
    if key not in stat["distinct"]:
        stat["distinct"].append(key)
        name = "input" + SUFFIX[reader]
        _save(
            out,
            f"atheris {reader}",
            {name: data},
            f"{reader} on {name}",
            f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''} (at {where})",
        )


def atheris_run(minutes: float, out: Path) -> dict[str, Tally]:
    """Run the atheris child for ``minutes``; the tallies it counted per reader."""
    seconds = max(1, int(60 * minutes))
    start = time.monotonic()
    subprocess.run(
        [sys.executable, __file__, "--atheris-child", str(seconds), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=(out / "atheris.log").open("w"),
    )
    elapsed = time.monotonic() - start
    stats = json.loads((out / "atheris-stats.json").read_text()) if (out / "atheris-stats.json").exists() else {}
    total = sum(s["runs"] for s in stats.values()) or 1
    return {
        f"atheris {r}": Tally(s["runs"], s["failures"], elapsed * s["runs"] / total, set(s["distinct"]))
        for r, s in stats.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="How long to fuzz (default 1).")
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"), help="Directory for failing inputs.")
    parser.add_argument("--only", default=None, help="Comma-separated strategies (default: all).")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the batches' seeds (default: random).")
    parser.add_argument("--atheris", action="store_true", help="The coverage-guided harness over the readers instead.")
    parser.add_argument("--atheris-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.atheris_child is not None:
        _atheris_child(args.atheris_child, args.out)
        return
    warnings.simplefilter("ignore")
    start = time.monotonic()
    if args.atheris:
        tallies = atheris_run(args.minutes, args.out)
    else:
        seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
        print(f"seed {seed}", flush=True)
        tallies = fuzz(args.minutes, args.out, None if args.only is None else args.only.split(","), seed)
    print(table(tallies))
    print(f"{time.monotonic() - start:.0f} s; failing inputs under {args.out}/")


if __name__ == "__main__":
    main()
