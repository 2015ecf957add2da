"""Where the benchmarks find the public datasets (CLINC150, Banking77, AfriSenti).

The folder is `--datasets DIR`, else the environment variable TERANGA_DATASETS_DIR, else
`../shared/datasets` beside the checkout. Each script also takes the path of each file or
folder it reads, to score other data or another split. Data that is not there ends the
script with a message saying what is missing and which option or variable to set.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from teranga.settings import PROJECT_ROOT, Settings, is_set

ENV = "TERANGA_DATASETS_DIR"
DEFAULT = PROJECT_ROOT.parent / "shared" / "datasets"


def add_datasets_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--datasets", type=Path, default=None, metavar="DIR",
                        help=f"the folder holding the public datasets (default: ${ENV}, "
                             f"else {DEFAULT})")


@dataclass(frozen=True)
class Datasets:
    root: Path
    chosen_by: str  # how the folder was chosen, for the message when data is missing

    @classmethod
    def from_option(cls, option: Path | None) -> Datasets:
        if option is not None:
            return cls(option, "--datasets")
        if is_set(ENV):
            return cls(Settings.from_env().datasets_dir, f"${ENV}")
        return cls(DEFAULT, f"the default (neither --datasets nor ${ENV} is set)")

    def find(self, relative: str, what: str, own_option: str, given: Path | None = None) -> Path:
        """`given` (the script's own option for this data) if set, else root/relative;
        either must exist, or the script stops and says what to set."""
        if given is not None:
            return must_exist(given, what, own_option)
        path = self.root / relative
        if not path.exists():
            fail(f"{what} not found: {path} does not exist.\n"
                 f"  The datasets folder is {self.root}, from {self.chosen_by}.\n"
                 f"  Set --datasets DIR or {ENV}=DIR to a folder holding {relative},\n"
                 f"  or give the data itself with {own_option}.")
        return path


def must_exist(path: Path, what: str, option: str) -> Path:
    if not path.exists():
        fail(f"{what} not found: {path} does not exist (given with {option}).")
    return path


def fail(message: str) -> NoReturn:
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr)
    raise SystemExit(2)
