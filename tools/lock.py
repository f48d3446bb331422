"""`make lock`: refreshes requirements.lock and requirements-dev.lock from pyproject.toml with uv.

python -m tools.lock [--upgrade PACKAGE | --upgrade :all:]   (pins that still fit are kept unless upgraded)
python -m tools.lock --check                                  (offline: where pyproject.toml and the locks disagree)
"""

from __future__ import annotations

import argparse
import sys

from integration_tests.support import lock_files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upgrade", metavar="PACKAGE", help="move this package (or :all:) to its newest fitting release")
    parser.add_argument("--check", action="store_true", help="only say where pyproject.toml and the locks disagree")
    args = parser.parse_args()
    if not args.check:
        lock_files.refresh(upgrade=args.upgrade)
    problems = lock_files.disagreements()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{', '.join(lock_files.LOCKS)} agree with pyproject.toml")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
