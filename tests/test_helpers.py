"""The test helpers that other tests rely on for isolation: strict warnings, shared fixtures."""
from __future__ import annotations

import asyncio
import gc
import json
import warnings

import pytest

from tests.helpers import SHARED_MARKER, shared_once, strict_warnings


def _leak_an_event_loop() -> None:
    """What a finished kernel client thread used to leave behind: an event loop nobody closed."""
    loop = asyncio.new_event_loop()
    del loop


def test_strict_warnings_fails_on_the_code_under_test():
    with pytest.raises(UserWarning, match="glyph"), strict_warnings():
        warnings.warn("glyph missing", UserWarning, stacklevel=1)
    with pytest.raises(DeprecationWarning), strict_warnings():
        warnings.warn("old", DeprecationWarning, stacklevel=1)


def test_strict_warnings_is_not_hit_by_other_tests_garbage():
    gc.disable()  # the leak stays pending until collected, as between two tests
    try:
        _leak_an_event_loop()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with strict_warnings():  # collects the pending garbage first: no error raised inside
                _leak_an_event_loop()
                gc.collect()  # the garbage collector runs in the middle of the code under test
    finally:
        gc.enable()
    unclosed = [w for w in seen if issubclass(w.category, ResourceWarning)]
    assert len(unclosed) >= 2, "the leaks are still reported, as ordinary warnings"


def test_shared_once_builds_once_and_catches_a_test_that_writes(tmp_path_factory):
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "a.txt").write_text("built", encoding="utf-8")
        return {"n": 1}

    result, folder = shared_once(tmp_path_factory, "helpers-selftest", build)
    again, same = shared_once(tmp_path_factory, "helpers-selftest", build)
    assert result == again == {"n": 1} and same == folder and len(calls) == 1
    assert json.loads((folder / SHARED_MARKER).read_text(encoding="utf-8"))["files"]
    (folder / "a.txt").write_text("changed by a test", encoding="utf-8")
    with pytest.raises(AssertionError, match="helpers-selftest.*changed after it was built.*a.txt"):
        shared_once(tmp_path_factory, "helpers-selftest", build)
