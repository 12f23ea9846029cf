"""Simulated lanes are labelled simulated wherever plain output names them, whatever the lanes file calls them."""

from __future__ import annotations

import io

from rich.console import Console
from support.bench_events import Run, race

from loopterm.plain.bench import ProgressPrinter
from loopterm.plain.race import PlainPrinter
from loopterm.stats.aggregate import build_report
from loopterm.stats.export import to_markdown
from loopterm.stats.progress import BenchProgress
from loopterm.words import display_name


def test_display_name_adds_the_mark_once() -> None:
    assert display_name("Mercury", simulated=True) == "Mercury (sim)"
    assert display_name("Fast diffusion (sim)", simulated=True) == "Fast diffusion (sim)"
    assert display_name("Odd (SIM)", simulated=True) == "Odd (SIM)"
    assert display_name("Mercury", simulated=False) == "Mercury"


def mercury_race() -> list:
    # A lanes-file sim lane named plainly, beside a real lane.
    return race(
        [
            Run("mercury-r01", [0.5, 1.0], name="Mercury"),
            Run("gpt-r01", [1.0], name="GPT", provider="openai", model="gpt"),
        ]
    )


def test_plain_turn_and_outcome_lines_label_the_sim_lane() -> None:
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=200, highlight=False))
    for event in mercury_race():
        printer(event)
    lines = buffer.getvalue().splitlines()
    mercury = [line for line in lines if "Mercury" in line]
    turn_lines = [line for line in mercury if " turn " in line]
    assert len(turn_lines) == 2 and all("Mercury (sim) turn" in line for line in turn_lines)
    assert any("Mercury (sim) PASS in" in line for line in mercury)
    assert all("GPT (sim)" not in line for line in lines)


def test_bench_progress_lines_label_the_sim_lane() -> None:
    progress = BenchProgress()
    buffer = io.StringIO()
    printer = ProgressPrinter(progress, Console(file=buffer, width=200, highlight=False))
    for event in mercury_race():
        progress(event)  # the bench feeds progress first, then the printer
        printer(event)
    run_lines = [line for line in buffer.getvalue().splitlines() if " run " in line and "Mercury" in line]
    assert len(run_lines) == 1 and "Mercury (sim) run  1/1 PASS" in run_lines[0]
    status = printer.status_line(1.0)
    assert "Mercury (sim) 1/1" in status and "GPT 1/1" in status


def test_report_labels_the_sim_lane() -> None:
    text = to_markdown(build_report([mercury_race()]))
    assert "| Mercury (sim) |" in text and "| GPT |" in text
