"""What was measured, for comparing result files: the commit, the uncommitted files and a hash of the connector's
package as it is, the machine, and the versions of the packages that matter to throughput."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Dict, Optional

from integration_tests.support.paths import PROJECT_ROOT

PACKAGES = ("airbyte-cdk", "requests", "orjson", "serpyco-rs")


def git_info() -> Dict[str, Any]:
    """The commit, the uncommitted files, and a hash of the connector package's files as they are (commit or not)."""

    def git(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return completed.stdout.rstrip("\n") if completed.returncode == 0 else ""

    digest = hashlib.sha256()
    package = PROJECT_ROOT / "source_periskope"
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty_files": git("status", "--porcelain").splitlines(),
        "source_periskope_sha256": digest.hexdigest(),
    }


def package_version(name: str) -> Optional[str]:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine() -> Dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def versions() -> Dict[str, Optional[str]]:
    return {name: package_version(name) for name in PACKAGES}
