"""A sweep runs at most every so often; one that did a whole batch runs again at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from mycity.usecases.sweeps import Sweep


@dataclass
class Countdown(Sweep):
    """Has `due` things to do, `batch` at a time."""

    due: int = 0
    runs: list[int] = field(default_factory=list)

    def sweep(self) -> int:
        done = min(self.due, self.batch)
        self.due -= done
        self.runs.append(done)
        return done


def test_a_sweep_runs_once_then_waits() -> None:
    sweep = Countdown(every_seconds=3600, batch=100, due=99)
    assert [sweep.sweep_if_due() for _ in range(3)] == [99, 0, 0]
    assert sweep.runs == [99]


def test_a_whole_batch_is_followed_by_another_until_the_backlog_is_gone() -> None:
    sweep = Countdown(every_seconds=3600, batch=100, due=250)
    assert [sweep.sweep_if_due() for _ in range(5)] == [100, 100, 50, 0, 0]
    exactly = Countdown(every_seconds=3600, batch=100, due=100)
    assert [exactly.sweep_if_due() for _ in range(3)] == [100, 0, 0]  # one look, then wait
