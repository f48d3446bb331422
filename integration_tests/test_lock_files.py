"""The lock files (requirements.lock, requirements-dev.lock) against pyproject.toml, the venv and the Dockerfile."""

import re
import shutil
import subprocess
import sys
from importlib import metadata

import pytest

from integration_tests.support import lock_files
from integration_tests.support.paths import PROJECT_ROOT


def project_copy(tmp_path):
    for name in ("pyproject.toml", *lock_files.LOCKS):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    return tmp_path


def edit_pyproject(root, old, new):
    path = root / "pyproject.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_locks_agree_with_pyproject():
    assert lock_files.disagreements() == []


def test_the_locks_cover_every_declared_python_and_pin_every_package_with_hashes():
    declared = lock_files.pythons(lock_files.pyproject()["project"]["requires-python"])
    assert declared == ["3.10", "3.11", "3.12", "3.13"]
    for name in lock_files.LOCKS:
        pins = lock_files.pins((PROJECT_ROOT / name).read_text())
        assert pins and all(pin["hashed"] for pin in pins), name
        for python in declared:
            assert {"airbyte-cdk", "setuptools", "wheel"} <= set(lock_files.pins_for(pins, python)), (name, python)


def test_a_dependency_changed_in_pyproject_without_a_refreshed_lock_fails(tmp_path):
    root = project_copy(tmp_path)
    assert lock_files.disagreements(root) == []
    edit_pyproject(root, '"requests>=2.31,<3"', '"requests>=3,<4"')

    problems = lock_files.disagreements(root)

    assert any("made from another pyproject.toml" in problem for problem in problems)
    assert any("pins requests==" in problem and "requests<4,>=3 excludes" in problem for problem in problems)
    assert all("make lock" in problem for problem in problems)


def test_a_dependency_added_to_pyproject_without_a_refreshed_lock_fails(tmp_path):
    root = project_copy(tmp_path)
    edit_pyproject(root, '"pytest>=8,<10",', '"pytest>=8,<10",\n    "hypothesis>=6",')

    problems = lock_files.disagreements(root)

    assert [p for p in problems if p.startswith("requirements.lock")] == []  # the runtime lock does not hold dev extras
    assert any("requirements-dev.lock has no hypothesis for Python 3.10" in problem for problem in problems)


def test_a_changed_python_range_or_build_backend_needs_a_refreshed_lock(tmp_path):
    root = project_copy(tmp_path)
    edit_pyproject(root, 'requires-python = ">=3.10,<3.14"', 'requires-python = ">=3.10,<3.15"')
    assert len(lock_files.disagreements(root)) == 2  # one per lock
    root = project_copy(tmp_path)
    edit_pyproject(root, '"setuptools>=77"', '"setuptools>=200"')
    assert any("pins setuptools==" in problem for problem in lock_files.disagreements(root))


def test_a_lock_entry_without_hashes_fails(tmp_path):
    root = project_copy(tmp_path)
    lock = root / "requirements.lock"
    lock.write_text(re.sub(r"(orjson==\S+) \\\n(    --hash=\S+ \\\n)*    --hash=\S+\n", r"\1\n", lock.read_text()))
    assert any(re.match(r"requirements.lock: orjson==\S+ has no hash", problem) for problem in lock_files.disagreements(root))


def test_the_venv_holds_exactly_what_the_dev_lock_pins_for_this_python():
    """`make setup` installs from the lock: a venv built otherwise (pip install -e '.[dev]') floats and differs."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    pinned = lock_files.pins_for(lock_files.pins((PROJECT_ROOT / "requirements-dev.lock").read_text()), python)
    installed = {}
    for name in pinned:
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed[name] = "not installed"
    assert {name: version for name, version in installed.items() if version != pinned[name]} == {}


def test_the_dockerfile_installs_only_from_the_lock_with_hashes_required():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\\\n&]*)", dockerfile)
    assert installs, "the Dockerfile installs nothing"
    for arguments in installs:
        assert ("--require-hashes -r requirements.lock" in arguments
                or ("--no-deps" in arguments and "--no-build-isolation" in arguments)), arguments
    assert "requirements.lock" in (PROJECT_ROOT / ".dockerignore").read_text()


REGISTRY_HOSTS = ["pypi" + ".org", "pythonhosted" + ".org", "registry" + ".npmjs.org", "proxy" + ".golang.org"]


def test_no_committed_file_names_a_package_registry_host():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    if not listed:
        pytest.skip("not a git checkout")
    named = []
    for name in listed.decode().split("\0"):
        path = PROJECT_ROOT / name
        if name and path.is_file():
            text = path.read_text(errors="ignore").lower()
            named += [f"{name}: {host}" for host in REGISTRY_HOSTS if host in text]
            if "index-url" in text and name in lock_files.LOCKS:
                named.append(f"{name}: an index URL")
    assert named == []
