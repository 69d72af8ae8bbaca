"""The wheel carries what crmassist reads at run time (prompts, the console, the Slack
manifest, migrations), so an install works from any directory without a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What the code opens by path at run time, relative to the package.
RUNTIME_FILES = [
    "prompts/system.md",
    "prompts/intents.yaml",
    "prompts/answers.yaml",
    "prompts/judge.md",
    "api/static/index.html",
    "slack/manifest.yml",
    "db/migrations/env.py",
    "db/migrations/versions/0001_initial_schema.py",
    "py.typed",
]

USE_INSTALLED = """
import sys
from importlib.resources import files
from pathlib import Path
import yaml
import crmassist
from crmassist.settings import Settings
from crmassist.agent.planner.intents import load_specs
from crmassist.agent.drafting import Templates
from crmassist.db.migrate import upgrade_schema
from crmassist.db import make_engine

site = Path(sys.argv[1]).resolve()
assert Path(crmassist.__file__).resolve().is_relative_to(site), crmassist.__file__
prompts = Settings(_env_file=None).prompts_dir
assert prompts.resolve().is_relative_to(site), prompts
assert load_specs(prompts) and Templates(prompts)
assert (prompts / "system.md").read_text(encoding="utf-8").strip()
manifest = yaml.safe_load((files("crmassist") / "slack" / "manifest.yml").read_text("utf-8"))
assert manifest["features"]["slash_commands"]
upgrade_schema(make_engine("sqlite:///" + sys.argv[2]))
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the checkout (links kept, so they must resolve)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "manifest.yml"):
        shutil.copy(ROOT / name, tree / name)
    for name in ("src", "prompts"):
        shutil.copytree(
            ROOT / name, tree / name, symlinks=True, ignore=shutil.ignore_patterns("*.egg-info")
        )
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(tree)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    (built,) = out.glob("crmassist-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_file_read_at_run_time(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in RUNTIME_FILES if f"crmassist/{f}" not in names]
    assert not missing, missing
    prompts = {p.name for p in (ROOT / "prompts").iterdir() if p.is_file()}
    assert {n.rsplit("/", 1)[1] for n in names if n.startswith("crmassist/prompts/")} == prompts


@pytest.mark.slow
def test_an_installed_wheel_runs_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", USE_INSTALLED, str(site), str(elsewhere / "crm.db")],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _pinned(lock: Path) -> set[str]:
    from packaging.utils import canonicalize_name

    lines = lock.read_text(encoding="utf-8").splitlines()
    return {canonicalize_name(line.split("==")[0]) for line in lines if "==" in line}


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))]
)
def test_the_locks_pin_every_declared_dependency(lock: str, extras: tuple[str, ...]) -> None:
    """`make install` installs with the dev lock as constraints: a dependency it does not
    name would install at whatever version is newest that day (`make lock` adds it)."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    names = {canonicalize_name(Requirement(spec).name) for spec in declared}
    assert names - {"crmassist"} - _pinned(ROOT / lock) == set()
