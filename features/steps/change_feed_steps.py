"""Steps for features/change_feed.feature: blocking waits on the change feed and doorbells."""

from __future__ import annotations

import select
import threading
from typing import Any

from behave import given, then, when
from helpers import DEADLINE_S, open_db, wait_until

from cleveragents.runtime.doorbell import Doorbell
from cleveragents.runtime.waiting import ChangeFeed


@given("a change feed on the database")
def step_feed(context: Any) -> None:
    context.feed = ChangeFeed(open_db(context))
    context.cleanups.append(context.feed.close)


@given("a doorbell")
def step_doorbell(context: Any) -> None:
    context.doorbell = Doorbell()
    context.cleanups.append(context.doorbell.close)


@given('inotify fails with "{why}"')
def step_no_inotify(context: Any, why: str) -> None:
    import inotify_simple

    real = inotify_simple.INotify

    class NoWatches(real):  # type: ignore[misc, valid-type]
        def add_watch(self, path: Any, mask: int) -> int:
            raise OSError(28, "No space left on device")  # what the kernel says at the limit

    def no_instances(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(24, "Too many open files")

    inotify_simple.INotify = NoWatches if "watches" in why else no_instances
    context.cleanups.append(lambda: setattr(inotify_simple, "INotify", real))


def _detector(context: Any) -> Any:
    return context.feed._detector


@then("the feed can block once the database is quiet")
def step_can_block(context: Any) -> None:
    detector = _detector(context)
    wait_until(lambda: not detector.changed() and detector.blocking_fd() is not None, "quiet")
    context.feed_fd = detector.blocking_fd()


@then("the feed cannot block")
def step_cannot_block(context: Any) -> None:
    detector = _detector(context)
    detector.changed()
    assert detector.blocking_fd() is None


def _readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


@then("the feed's descriptor is not readable")
def step_fd_quiet(context: Any) -> None:
    assert not _readable(context.feed_fd, 0)


@then("the feed's descriptor becomes readable within the deadline")
def step_fd_readable(context: Any) -> None:
    assert _readable(context.feed_fd, DEADLINE_S), "no wake-up from the other connection's commit"
    wait_until(_detector(context).changed, "the commit to show in the feed")


def _wait_in_background(context: Any, timeout: float, stop: Any) -> None:
    context.woken = threading.Event()
    context.wait_result = None

    def wait() -> None:
        context.wait_result = context.feed.wait(timeout, stop=stop)
        context.woken.set()

    thread = threading.Thread(target=wait, name="feed-waiter", daemon=True)
    thread.start()


@when("a waiter waits up to {timeout:d} seconds on the feed in the background")
def step_waiter(context: Any, timeout: int) -> None:
    _wait_in_background(context, timeout, None)


@when("a waiter waits up to {timeout:d} seconds on the feed with the doorbell in the background")
def step_waiter_doorbell(context: Any, timeout: int) -> None:
    _wait_in_background(context, timeout, context.doorbell)


@when(
    'a waiter waits up to {timeout:d} seconds on the feed with worker "{name}"\'s wake-up'
    " in the background"
)
def step_waiter_worker(context: Any, timeout: int, name: str) -> None:
    from cleveragents.worker.worker import _Wakeup

    _wait_in_background(context, timeout, _Wakeup(context.workers[name]))


@then("the waiter was woken within the deadline")
def step_woken(context: Any) -> None:
    assert context.woken.wait(DEADLINE_S), "the waiter is still blocked"
    assert context.wait_result is True


@then("the feed saw the commit")
def step_saw(context: Any) -> None:
    assert not _detector(context).changed()  # the waiter took the change: nothing new since


@when("the doorbell is set from another thread")
def step_set(context: Any) -> None:
    thread = threading.Thread(target=context.doorbell.set)
    thread.start()
    thread.join(DEADLINE_S)


@when("the doorbell is cleared")
def step_clear(context: Any) -> None:
    context.doorbell.clear()


@when("the doorbell is rung {times:d} times")
def step_ring(context: Any, times: int) -> None:
    for _ in range(times):  # more than a pipe holds: a full pipe is readable already
        context.doorbell.ring()


@then("the doorbell's descriptor is not readable")
def step_bell_quiet(context: Any) -> None:
    assert not _readable(context.doorbell.fileno(), 0)


@then("the doorbell's descriptor is readable and the doorbell is {state}")
def step_bell_readable(context: Any, state: str) -> None:
    assert _readable(context.doorbell.fileno(), 0)
    assert context.doorbell.is_set() is (state == "set"), state


@when('worker "{name}" is asked to stop as a signal handler does')
def step_request_stop(context: Any, name: str) -> None:
    context.workers[name].request_stop("SIGTERM")


@then('worker "{name}" knows it should stop')
def step_should_stop(context: Any, name: str) -> None:
    assert context.workers[name]._should_stop()


@when("the detector's connection is closed under it")
def step_detector_closed(context: Any) -> None:
    context.detector._raw.driver_connection.close()


@then("the detector cannot block")
def step_detector_cannot_block(context: Any) -> None:
    assert context.detector.blocking_fd() is None
