"""The deploy tools read the session's one synth of both environments (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SynthOutput


@pytest.fixture(scope="session")
def synth_out(synth: SynthOutput) -> Path:
    return synth.root
