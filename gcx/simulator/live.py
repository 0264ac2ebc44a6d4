"""Live mode (placeholder while batch mode is built)."""

from dataclasses import dataclass


@dataclass
class LiveSummary:
    trades: int = 0


def run_live() -> LiveSummary:
    raise NotImplementedError
