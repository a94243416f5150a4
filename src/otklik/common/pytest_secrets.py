"""Pytest plugin (pyproject: `-p otklik.common.pytest_secrets`): the suite's own secrets.

Tests run with DEBUG off, which needs real secrets. They get this installation's random
ones under var/, created the way `make run` creates them (never a key published in the
repository), and exported to the environment so the servers and workers a test starts
use the same. Loaded with `-p` because pytest-django imports the settings before any
conftest.
"""

import os

from otklik.common.secrets import (
    INSTALL_SECRETS,
    default_var_dir,
    ensure_install_secrets,
    read_secret,
)

_var_dir = default_var_dir()
ensure_install_secrets(var_dir=_var_dir)
for _name in INSTALL_SECRETS:
    os.environ.setdefault(_name, read_secret(_name, var_dir=_var_dir))
