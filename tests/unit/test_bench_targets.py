"""The visits bench names the targets a run misses (bench/visits.missed)."""

import pytest

from bench.visits import missed

AT_THE_LINES = dict(
    stops=9.5, beyond_kept=0, tv=0.15, entropy=0.9, top_gap=0.10, since_p=0.08, logistic_p=0.08,
    chance=0.04,
)  # fmt: skip


def test_a_run_on_every_line_misses_none():
    assert missed(AT_THE_LINES, {"stops": 10.0}) == []


@pytest.mark.parametrize(
    "figure, value, name",
    [
        ("stops", 9.49, "stops"),
        ("beyond_kept", 1, "floor"),
        ("tv", 0.151, "tv"),
        ("entropy", 0.899, "entropy"),
        ("top_gap", 0.101, "top gap"),
        ("since_p", 0.081, "2x chance"),
    ],
)
def test_each_figure_past_its_line_is_named_alone(figure, value, name):
    assert missed({**AT_THE_LINES, figure: value}, {"stops": 10.0}) == [name]


def test_the_logistic_observer_past_a_quarter_misses_the_issues_line_and_twice_chance():
    run = {**AT_THE_LINES, "logistic_p": 0.26, "chance": 0.2}
    assert missed(run, {"stops": 10.0}) == ["p@k"]
    assert missed({**run, "chance": 0.1}, {"stops": 10.0}) == ["p@k", "2x chance"]
