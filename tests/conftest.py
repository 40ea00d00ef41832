"""pytest fixtures shared by the suite; the helpers live in scalene_testlib
(imported by name, since every test folder may have its own conftest)."""
import pytest

from scalene_testlib import run_scalene


@pytest.fixture
def scalene(tmp_path):
    def _run(args, **kw):
        return run_scalene(args, tmp_path, **kw)

    return _run
