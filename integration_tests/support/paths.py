"""Where the project is, and whether this runs on CI (CI=true: what would be skipped elsewhere fails instead)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI", "").lower() == "true"
