"""A value read from a file and read again only when the file changes, so that operators'
edits (agents, desk settings) apply at once without costing a parse on every use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class Reloading(Generic[T]):
    def __init__(self, path: Callable[[], Path], load: Callable[[Path], T]) -> None:
        self.path = path  # a function: the file's location may come from the environment
        self.load = load
        self._value: T | None = None
        self._stamp: tuple[Path, float] | None = None

    def get(self) -> T:
        path = self.path()
        stamp = (path, path.stat().st_mtime if path.exists() else 0.0)
        if self._value is None or stamp != self._stamp:
            self._value, self._stamp = self.load(path), stamp
        return self._value
