"""A plain `pip install .` must ship every subpackage: pyproject.toml lists them by hand."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test extra installs tomli there
    import tomli as tomllib


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "seq2text").rglob("__init__.py")}
    assert found <= listed, f"missing from [tool.setuptools] packages: {sorted(found - listed)}"


def test_ci_runs_the_readmes_test_command_which_installs_what_the_tests_need() -> None:
    root = ROOT
    readme = (root / "README.md").read_text(encoding="utf-8")
    command = readme.split("# 2. ", 1)[1].split("\n")[1]
    assert command.startswith("scripts/install_test_tools.sh && ") and "pytest" in command
    assert (root / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()[-1] == command
    tools = (root / "scripts" / "install_test_tools.sh").read_text(encoding="utf-8")
    assert all(package in tools for package in ("chromium", "chromium-driver", "fonts-noto-cjk"))


def test_the_code_passes_its_lint() -> None:
    """Imports at the top of modules (ruff's PLC0415; the CLI and the lazy imports that say why
    are exempt): pyproject.toml's [tool.ruff]."""
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "seq2text", "scripts"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
