"""`make bench`: run every benchmark and record its figures in bench/RESULTS.md.

Each benchmark module has `main() -> dict[str, object]` returning its figures (and prints as it
goes). Figures are measured side by side in one run, so ratios compare like with like. Run one
benchmark with `python -m bench simulator_throughput`; options go to its main(), e.g.
`python -m bench lakehouse --trades 100000`.
"""

import importlib
import os
import platform
import sys
import time
from pathlib import Path

from gcx import clock

BENCHMARKS = [
    "simulator_throughput",
    "lakehouse",
    "quality_checks",
    "api_history",
    "realtime",
    "exports",
    "dashboards",
    "reports",
    "ml_models",
    "audit_chain",
]
RESULTS = Path(__file__).parent / "RESULTS.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python {platform.python_version()}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: figures measured on a busy machine are not comparable."""
    return " / ".join(f"{load:.2f}" for load in os.getloadavg())


def record(name: str, figures: dict[str, object], seconds: float) -> None:
    when = clock.now().strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## {name} ({when})\n",
        f"Machine: {machine()}. Wall time {seconds:.1f} s. Load average at the end {load_average()}.\n",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    lines += [
        f"| {key} | {value:,.2f} |" if isinstance(value, float) else f"| {key} | {value} |"
        for key, value in figures.items()
    ]
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\nAppended by `make bench`; newest last. Each section is one run.\n"
        )
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")


def option_value(text: str) -> int | float | str:
    """A command-line option's value: a number where it reads as one (--trades 100000), else text (--home .gcx)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run(names: list[str], options: dict[str, object] | None = None) -> None:
    """Run each benchmark; `options` (e.g. {"trades": 100000}) are passed to every main()."""
    options = options or {}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        figures = module.main(**options)
        title = " ".join([name, *(f"--{key.replace('_', '-')} {value}" for key, value in options.items())])
        record(title, figures, time.perf_counter() - started)
        print(f"{name}: recorded in {RESULTS}")


if __name__ == "__main__":
    # python -m bench [NAME ...] [--option VALUE ...], e.g. python -m bench lakehouse --trades 100000
    arguments = sys.argv[1:]
    first_option = next((i for i, a in enumerate(arguments) if a.startswith("--")), len(arguments))
    flags = arguments[first_option:]
    options = {
        flag.removeprefix("--").replace("-", "_"): option_value(value)
        for flag, value in zip(flags[::2], flags[1::2], strict=True)
    }
    run(arguments[:first_option] or BENCHMARKS, options)
