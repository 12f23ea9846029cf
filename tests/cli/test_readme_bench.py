"""The README's bench table: its columns that do not depend on timing are what the code gives.

A sim lane's answers depend only on its seed (its latency draws are taken at
any time scale), so the same bench at time scale 0 must show the same passes,
one-shots, median iterations and fitted r as the published table. Times are
measurements and are not checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.in_process import LoopTerm

from loopterm.stats.export import fmt_iterations, fmt_number

COMMAND = "loopterm bench sim:fast-diffusion sim:frontier --runs 10 --time-scale 1 --seed 7"


def readme_rows(repo_root: Path) -> dict[str, list[str]]:
    text = (repo_root / "README.md").read_text()
    assert COMMAND in text, "the README no longer shows the bench this test reruns"
    table = text[text.index(COMMAND) :].split("\n\n")[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]
    header, body = rows[0], rows[2:]
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


def test_readme_bench_table_matches_a_rerun(repo_root: Path, tmp_path: Path, loopterm_main: LoopTerm) -> None:
    published = readme_rows(repo_root)
    args = re.sub(r"--time-scale \S+", "--time-scale 0", COMMAND).split()[1:]
    done = loopterm_main(*args, "--json", "--trace-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = {row["lane"]: row for row in json.loads(done.stdout)["rows"]}
    assert set(rows) == set(published)
    for lane, row in rows.items():
        cells = published[lane]
        assert cells["Runs Passed"] == f"{row['passed']}/{row['runs']}", lane
        assert cells["One-shot"] == str(row["one_shot"]), lane
        assert cells["Median Iterations"] == fmt_iterations(row["median_iterations"]), lane
        assert cells["r"] == fmt_number(row["fitted_r"], 2), lane


def test_readme_demo_turn_count_matches_a_rerun(repo_root: Path, tmp_path: Path, loopterm_main: LoopTerm) -> None:
    # "the offline demo, `loopterm race --seed 1` ... the weak local lane's N turns to THRASH decide it"
    text = (repo_root / "README.md").read_text()
    match = re.search(r"`loopterm race --seed (\d+)`.*?weak local lane's (\d+) turns to THRASH", text)
    assert match, "the README no longer states the demo's weak-local turns"
    seed, turns = match.groups()
    # A run's answers depend on its seed and run id only, so the lane alone at time scale 0 repeats them.
    done = loopterm_main(
        "race", "sim:weak-local", "--seed", seed, "--time-scale", "0", "--json", "--trace-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    (lane,) = json.loads(done.stdout)["lanes"]
    assert (lane["outcome"], lane["turns"]) == ("THRASH", int(turns))
