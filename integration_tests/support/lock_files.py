"""The lock files: every package an install needs, pinned with its hashes, for every Python pyproject.toml declares.

requirements.lock holds the runtime dependencies, requirements-dev.lock those plus the `dev` extras; both also pin
the build backend (build-system.requires), so an install with --require-hashes and --no-build-isolation fetches
nothing unpinned. `make lock` refreshes them with uv (one universal resolution covering Python 3.10 to 3.13,
keeping the current pins where they still fit). `disagreements()` says, without any network, where pyproject.toml
and a lock no longer agree: a dependency changed, added or removed in pyproject.toml since the last `make lock`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: only the default Python (3.11+) refreshes or checks the locks
    tomllib = None

from integration_tests.support.paths import PROJECT_ROOT

# lock file -> the extras of pyproject.toml it holds
LOCKS = {"requirements.lock": (), "requirements-dev.lock": ("dev",)}
REFRESH_COMMAND = "make lock"
UV = "uv==0.13.8"  # the locking tool, installed into its own venv by `make lock`
UV_VENV = PROJECT_ROOT / ".venv-lock"
STAMP_PREFIX = "# pyproject.toml inputs sha256: "
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^ ;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


class LockProblem(Exception):
    pass


def pyproject(root: Path = PROJECT_ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


def inputs(project: dict, extras: tuple) -> Dict[str, object]:
    """What a lock is made from: the requirements it must satisfy, and the Pythons it must cover."""
    requirements = list(project["project"]["dependencies"])
    for extra in extras:
        requirements += project["project"]["optional-dependencies"][extra]
    return {
        "requires-python": project["project"]["requires-python"],
        "requirements": sorted(requirements),
        "build-system": sorted(project["build-system"]["requires"]),
    }


def stamp(project: dict, extras: tuple) -> str:
    return hashlib.sha256(json.dumps(inputs(project, extras), sort_keys=True).encode()).hexdigest()


def pins(lock_text: str) -> List[dict]:
    """Each `name==version [; marker]` line of a lock, and whether hashes follow it."""
    lines = lock_text.splitlines()
    found = []
    for number, line in enumerate(lines):
        match = _PIN.match(line)
        if match:
            hashed = number + 1 < len(lines) and lines[number + 1].strip().startswith("--hash=sha256:")
            found.append({"name": canonicalize_name(match["name"]), "version": match["version"],
                          "marker": Marker(match["marker"]) if match["marker"] else None, "hashed": hashed})
    return found


def pythons(requires_python: str) -> List[str]:
    """The minor versions a `requires-python` such as '>=3.10,<3.14' admits."""
    allowed = SpecifierSet(requires_python)
    return [f"3.{minor}" for minor in range(6, 30) if f"3.{minor}.0" in allowed]


def pins_for(lock: List[dict], python: str) -> Dict[str, str]:
    """name -> version, for the entries of a lock a CPython `python` on Linux installs."""
    environment = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
                   "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython", "platform_machine": "x86_64", "extra": ""}
    chosen: Dict[str, str] = {}
    for pin in lock:
        if pin["marker"] is None or pin["marker"].evaluate(environment):
            chosen[pin["name"]] = pin["version"]
    return chosen


def disagreements(root: Path = PROJECT_ROOT) -> List[str]:
    """Every way the locks under `root` disagree with its pyproject.toml; empty when they agree."""
    project = pyproject(root)
    problems = []
    for name, extras in LOCKS.items():
        path = root / name
        if not path.exists():
            problems.append(f"{name} is missing: run `{REFRESH_COMMAND}`.")
            continue
        text = path.read_text()
        if STAMP_PREFIX + stamp(project, extras) not in text:
            problems.append(f"{name} was made from another pyproject.toml (its dependencies, extras, build-system "
                            f"or requires-python changed since): run `{REFRESH_COMMAND}`.")
        lock = pins(text)
        problems += [f"{name}: {pin['name']}=={pin['version']} has no hash." for pin in lock if not pin["hashed"]]
        made_from = inputs(project, extras)
        wanted = [Requirement(line) for line in made_from["requirements"] + made_from["build-system"]]
        for python in pythons(made_from["requires-python"]):
            pinned = pins_for(lock, python)
            for requirement in wanted:
                if requirement.marker and not requirement.marker.evaluate({"python_version": python, "extra": ""}):
                    continue
                version = pinned.get(canonicalize_name(requirement.name))
                if version is None:
                    problems.append(f"{name} has no {requirement.name} for Python {python}, which pyproject.toml "
                                    f"asks for ({requirement}): run `{REFRESH_COMMAND}`.")
                elif not requirement.specifier.contains(version, prereleases=True):
                    problems.append(f"{name} pins {requirement.name}=={version} for Python {python}, which "
                                    f"pyproject.toml's {requirement} excludes: run `{REFRESH_COMMAND}`.")
    return problems


def uv(say: Callable[[str], None] = print) -> Path:
    """uv from its own venv (.venv-lock), installed there when missing."""
    binary = UV_VENV / "bin" / "uv"
    if not binary.exists():
        say(f"installing {UV} into {UV_VENV.name}/")
        subprocess.run([sys.executable, "-m", "venv", str(UV_VENV)], check=True)
        subprocess.run([str(UV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", UV], check=True)
    return binary


def refresh(root: Path = PROJECT_ROOT, upgrade: Optional[str] = None, say: Callable[[str], None] = print) -> None:
    """Re-resolves both locks (keeping the pins that still fit; `upgrade` a package name to move it, or ':all:')."""
    project = pyproject(root)
    lowest = pythons(project["project"]["requires-python"])[0]
    build_requirements = "\n".join(project["build-system"]["requires"]) + "\n"
    for name, extras in LOCKS.items():
        command = [str(uv(say)), "pip", "compile", "pyproject.toml", "-", "--universal", "--python-version", lowest,
                   "--generate-hashes", "--no-emit-index-url", "--custom-compile-command", REFRESH_COMMAND,
                   "--quiet", "--output-file", name]
        command += [argument for extra in extras for argument in ("--extra", extra)]
        if upgrade == ":all:":
            command.append("--upgrade")
        elif upgrade:
            command += ["--upgrade-package", upgrade]
        say(f"resolving {name}")
        subprocess.run(command, cwd=root, input=build_requirements, text=True, check=True)
        path = root / name
        header, _, body = path.read_text().partition("\n#    " + REFRESH_COMMAND + "\n")
        if not body:
            raise LockProblem(f"uv wrote {name} without its usual header (the `{REFRESH_COMMAND}` line)")
        body = "\n".join(line for line in body.splitlines() if not line.startswith(STAMP_PREFIX)) + "\n"
        path.write_text(f"{header}\n#    {REFRESH_COMMAND}\n{STAMP_PREFIX}{stamp(project, extras)}\n{body}")
