"""The GCX source-system simulator: a seeded stand-in for the exchange's database, its compliance
file drops, its platform events and its live market feed (see docs/sources.md).

``simulate`` writes a fresh world for a period; ``run_live`` keeps trading in real time after it.
"""

from gcx.simulator.live import LiveSummary, run_live
from gcx.simulator.world import SimulationSummary, simulate

__all__ = ["LiveSummary", "SimulationSummary", "run_live", "simulate"]
