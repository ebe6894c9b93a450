"""Slots (pure): at most `total` at once and `per_key` per key; a caller beyond either is told at
once (nobody waits), and a slot is given back however its block ends."""

from __future__ import annotations

import pytest

from appliance.slots import Slots, SlotsBusy


def test_it_bounds_each_key_and_the_total():
    slots = Slots(total=2, per_key=1)
    with slots.hold("alice"):
        with pytest.raises(SlotsBusy) as yours:
            slots.hold("alice")
        assert yours.value.per_key is True and yours.value.limit == 1
        with slots.hold("bob"):
            with pytest.raises(SlotsBusy) as everyone:
                slots.hold("carol")
            assert everyone.value.per_key is False and everyone.value.limit == 2
            with pytest.raises(SlotsBusy) as still_yours:  # one's own limit is named first
                slots.hold("alice")
            assert still_yours.value.per_key is True
        assert slots.in_use() == 1
        with slots.hold("carol"):
            pass
    assert slots.in_use() == 0


def test_a_slot_is_given_back_when_its_block_fails():
    slots = Slots(total=1, per_key=1)
    with pytest.raises(RuntimeError):
        with slots.hold("alice"):
            raise RuntimeError("the import failed")
    with slots.hold("alice"):
        assert slots.in_use() == 1


def test_it_refuses_limits_that_cannot_hold():
    with pytest.raises(ValueError):
        Slots(total=1, per_key=2)
