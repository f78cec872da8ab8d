"""Every room's models and services import on their own, in a fresh interpreter.

The suite imports the whole app first, which hides a model that names another room's class by
string before that class is registered: the first statement built at import (a joinedload, a
prepared select) then fails to configure the mappers, in a script or a worker that imports one
room only.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for pattern in ("lms/*/models.py", "lms/*/services.py")
    for p in ROOT.glob(pattern)
)


@pytest.mark.sqlite_only  # no database is touched: once per `make test` is enough
def test_each_module_imports_alone_and_configures_the_mappers() -> None:
    assert "lms.discussion.services" in MODULES and "lms.accounts.models" in MODULES
    script = (
        "import importlib, sys, sqlalchemy.orm as o;"
        "importlib.import_module(sys.argv[1]); o.configure_mappers()"
    )
    # All at once: each is an interpreter start (about 1,5 s), and they share nothing.
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", script, name],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in MODULES
    }
    failed = {}
    for name, proc in runs.items():
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failed[name] = err.strip().splitlines()[-1]
    assert failed == {}
