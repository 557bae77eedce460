"""The collector settings around planning and the walk leave the process as they found it."""

from __future__ import annotations

import gc

import pytest

from kubespray_cleanup.heap import collector_paused, frozen_heap


def test_the_walk_freezes_what_exists_and_unfreezes_it_afterwards() -> None:
    before = gc.get_freeze_count()
    marker = [object()]
    with frozen_heap():
        assert gc.get_freeze_count() > before  # the plan built before the walk is out of the collector's way
        made_during = [object()]
    assert gc.get_freeze_count() == 0
    assert gc.is_tracked(marker) and gc.is_tracked(made_during)


def test_unfrozen_also_when_the_walk_raises() -> None:
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("interrupted")
    assert gc.get_freeze_count() == 0


def test_collector_paused_during_the_phase_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad state")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
