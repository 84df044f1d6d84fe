"""An int64 -> int64 map that takes batches of new keys without copying all it holds.

Keeping keys in *one* sorted array means every batch of new keys is merged into it, a copy of the
whole array, so a state that gains keys with every batch pays its whole size per batch (quadratic over
a run). :class:`SortedRuns` keeps several sorted *runs* instead, each at most half the size of the one
before it (a log-structured merge): a batch of new keys becomes a run of its own, merged with the runs
no larger than it. A key is copied once each time its run doubles, so ``n`` keys cost ``n log n`` in
all, and a lookup is one binary search per run (a handful). Merging two sorted runs is numpy's stable
sort of their concatenation, which finds the two runs and merges them in linear time.

Keys are distinct: :meth:`SortedRuns.add` takes only keys that are not in the map.

Example:
    >>> runs = SortedRuns()
    >>> runs.add(np.array([50, 10]), np.array([5, 1]))
    >>> runs.add(np.array([30]), np.array([3]))
    >>> runs.find(np.array([30, 40, 50])).tolist()
    [3, -1, 5]
    >>> runs.assign(np.array([50]), np.array([-1]))
    >>> runs.find(np.array([50])).tolist(), len(runs)
    ([-1], 3)
"""

from __future__ import annotations

import numpy as np

__all__ = ["SortedRuns"]


class SortedRuns:
    """int64 keys to int64 values as sorted runs (see the module docstring)."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._values: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys)

    def _locate(self, queries: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each run, (mask of the queries found in it, their positions in it). A run whose key range
        misses the queries' is skipped without a search (growing ids only ever meet the newest run)."""
        located = []
        if len(queries) == 0 or not self._keys:
            return [(np.zeros(len(queries), dtype=bool), np.zeros(0, dtype=np.int64)) for _ in self._keys]
        lowest, highest = int(queries.min()), int(queries.max())
        for keys in self._keys:
            if int(keys[-1]) < lowest or int(keys[0]) > highest:
                located.append((np.zeros(len(queries), dtype=bool), np.zeros(0, dtype=np.int64)))
                continue
            at = np.searchsorted(keys, queries)
            inside = at < len(keys)
            hit = np.zeros(len(queries), dtype=bool)
            hit[inside] = keys[at[inside]] == queries[inside]
            located.append((hit, at[hit]))
        return located

    def find(self, queries: np.ndarray) -> np.ndarray:
        """The value of each query key, -1 for an absent one."""
        queries = np.asarray(queries, dtype=np.int64)
        out = np.full(len(queries), -1, dtype=np.int64)
        for values, (hit, positions) in zip(self._values, self._locate(queries)):
            out[hit] = values[positions]
        return out

    def assign(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Set the values of keys that are in the map (absent keys are ignored)."""
        keys = np.asarray(keys, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        for run_values, (hit, positions) in zip(self._values, self._locate(keys)):
            run_values[positions] = values[hit]

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add distinct keys that are not in the map."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        run_keys, run_values = keys[order], np.asarray(values, dtype=np.int64)[order]
        while self._keys and len(self._keys[-1]) <= 2 * len(run_keys):
            merged_keys = np.concatenate([self._keys.pop(), run_keys])
            merged_values = np.concatenate([self._values.pop(), run_values])
            order = np.argsort(merged_keys, kind="stable")  # two sorted runs: a linear merge
            run_keys, run_values = merged_keys[order], merged_values[order]
        self._keys.append(run_keys)
        self._values.append(run_values)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (key, value), keys ascending."""
        if not self._keys:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys = np.concatenate(self._keys)
        order = np.argsort(keys, kind="stable")
        return keys[order], np.concatenate(self._values)[order]
