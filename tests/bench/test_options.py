"""The bench's defaults: a gateway's rate is per real second, so a rate-limited bench runs at time-scale 1."""

from __future__ import annotations

from bench.run import parse_args


def test_time_scale_defaults_to_one_under_a_rate_limit() -> None:
    assert parse_args(["--rate-limit", "60"]).time_scale == 1.0


def test_time_scale_defaults_to_twenty_without_one_and_an_explicit_value_wins() -> None:
    assert parse_args([]).time_scale == 20.0
    assert parse_args(["--rate-limit", "60", "--time-scale", "5"]).time_scale == 5.0
