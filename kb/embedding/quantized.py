"""Similarities of vectors in int8: a table quantized once, row by row, and queries quantized as they come.

Each row becomes integers from -127 to 127 and one scale (its largest magnitude over 127). The integer dot
products of queries and table rows are computed by the engine library's VNNI kernel (``e5t_scores_q8`` in
``kb.embedding.kernel``) where this machine has one, else by BLAS on the same integers as float32. BLAS is
exact there: ``dim`` products of at most 127 x 127 stay below 2**24, so every partial sum is an integer that
float32 holds. Each dot product is then scaled by the row's scale, then by the query's, in that order on
both paths, so a score is the same to the bit whichever path computed it.

For unit vectors of e5's 384 dimensions the scores differ from float32's by about 0.0003 (at most about
0.003), less than the int8 rounding the shipped label vectors already carry (``kb.esco.vectors``). The kernel
reads a quarter of float32's bytes and multiplies about twice as fast as BLAS on one core
(docs/benchmarks.md, "ESCO's label product in int8").
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

LEVELS = 127  # integers from -LEVELS to LEVELS: the kernel's unsigned queries (x + 128) stay within a byte
GROUP = 16  # rows interleaved in the kernel's layout; a table is padded to a multiple of this
QUERY_BLOCK = 4  # queries are padded to a multiple of this (the kernel takes four at once)
QUANTIZE_ROWS = 4096  # rows quantized at a time: no float copy of a whole table


@dataclass(frozen=True, eq=False)
class QuantizedTable:
    """Rows of vectors in int8, laid out for the kernel (``quantize_table``): whole groups of 16 rows, of which
    rows ``first`` to ``first + rows`` are the table's (the others are padding, or other rows of the table a
    ``part`` was cut from)."""

    packed: np.ndarray  # int8 (groups, dim / 4, 16, 4): quad j of a group's 16 rows, then the next quad
    sums: np.ndarray  # int32 (groups * 16,) each row's integers summed (the kernel's offset)
    scales: np.ndarray  # float32 (groups * 16,) 0 on the padding
    rows: int
    first: int = 0

    def part(self, begin: int, end: int) -> "QuantizedTable":
        """Rows ``begin`` to ``end`` alone: views of the groups that hold them, no copy."""
        if not 0 <= begin <= end <= self.rows:
            raise ValueError(f"rows {begin} to {end} of a table of {self.rows}")
        begin, end = begin + self.first, end + self.first
        low, high = begin // GROUP, -(-end // GROUP)
        return QuantizedTable(self.packed[low:high], self.sums[low * GROUP:high * GROUP],
                              self.scales[low * GROUP:high * GROUP], end - begin, begin - low * GROUP)

    @property
    def dim(self) -> int:
        return self.packed.shape[1] * self.packed.shape[3]

    @cached_property
    def integers(self) -> np.ndarray:
        """(padded rows, dim) float32 holding the integers: BLAS's operand where the kernel is not there."""
        groups, quads, width, four = self.packed.shape
        return self.packed.transpose(0, 2, 1, 3).reshape(groups * width, quads * four).astype(np.float32)


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row as int8 integers and a float32 scale (a zero row: zeros and scale 1)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.maximum(vectors.max(axis=1, initial=0.0), -vectors.min(axis=1, initial=0.0)) / np.float32(LEVELS)
    scales[scales == 0] = 1.0
    scaled = vectors / scales[:, None]
    return np.rint(scaled, out=scaled).astype(np.int8), scales.astype(np.float32)


def quantize_table(vectors: np.ndarray) -> QuantizedTable:
    """The table of ``vectors`` (rows, dim), dim a multiple of 4."""
    rows, dim = vectors.shape
    if dim % 4:
        raise ValueError(f"vectors of {dim} dimensions: the int8 product takes a multiple of 4")
    padded = -(-rows // GROUP) * GROUP
    integers = np.zeros((padded, dim), dtype=np.int8)
    scales = np.zeros(padded, dtype=np.float32)
    for begin in range(0, rows, QUANTIZE_ROWS):
        end = min(begin + QUANTIZE_ROWS, rows)
        integers[begin:end], scales[begin:end] = quantize_rows(vectors[begin:end])
    packed = np.ascontiguousarray(integers.reshape(padded // GROUP, GROUP, dim // 4, 4).transpose(0, 2, 1, 3))
    return QuantizedTable(packed, integers.sum(axis=1, dtype=np.int32), scales, rows)


def similarities(queries: np.ndarray, table: QuantizedTable, kernel: bool = True) -> np.ndarray:
    """(queries, table rows) float32 int8 dot products, scaled; ``kernel=False`` takes the BLAS path (the same
    numbers)."""
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    count = len(queries)
    if queries.shape[1] != table.dim:
        raise ValueError(f"queries of {queries.shape[1]} dimensions against a table of {table.dim}")
    if not count or not table.rows:
        return np.zeros((count, table.rows), dtype=np.float32)
    padded = -(-count // QUERY_BLOCK) * QUERY_BLOCK
    integers = np.zeros((padded, table.dim), dtype=np.int8)
    scales = np.zeros(padded, dtype=np.float32)
    integers[:count], scales[:count] = quantize_rows(queries)
    out = np.empty((padded, len(table.scales)), dtype=np.float32)
    if not (kernel and _kernel_product(table, integers, out)):
        np.matmul(integers.astype(np.float32), table.integers.T, out=out)
        out *= table.scales
    out *= scales[:, None]
    return out[:count, table.first:table.first + table.rows]


def _kernel_product(table: QuantizedTable, integers: np.ndarray, out: np.ndarray) -> bool:
    """``out``, the dot products times the rows' scales, by the library's kernel; False where there is no
    library or no VNNI here."""
    function = _kernel()
    if function is None:
        return False
    unsigned = integers.view(np.uint8) ^ np.uint8(0x80)  # x + 128 for int8 x
    pointer = ctypes.c_void_p
    return function(table.packed.ctypes.data_as(pointer), table.sums.ctypes.data_as(pointer),
                    table.scales.ctypes.data_as(pointer), len(table.scales), table.dim,
                    unsigned.ctypes.data_as(pointer), len(integers),
                    out.ctypes.data_as(pointer)) == 0


@lru_cache(maxsize=1)
def _kernel():
    """The library's ``e5t_scores_q8`` (None where the library cannot be built here)."""
    from kb.embedding.tokens import native_library

    library = native_library()
    if library is None:
        return None
    function = library.e5t_scores_q8
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                         ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    return function
