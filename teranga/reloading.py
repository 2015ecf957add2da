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
        self._stamp: tuple[Path, int, int] | None = None

    def get(self) -> T:
        path = self.path()
        # The size too: two writes within the clock's tick can share a modification time.
        stat = path.stat() if path.exists() else None
        stamp = (path, stat.st_mtime_ns if stat else 0, stat.st_size if stat else -1)
        if self._value is None or stamp != self._stamp:
            self._value, self._stamp = self.load(path), stamp
        return self._value
