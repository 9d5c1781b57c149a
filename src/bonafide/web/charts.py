"""Geometry for the inline SVG charts: rating histogram, 7 × 24 heat map, cluster graph layout.

Owns: turning figures into shapes (coordinates, sizes, colours, labels); the templates draw them.
Imports: NumPy and the pure domain's figure types. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bonafide.market.service_figures import HeatCell

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LAYOUT_ITERATIONS = 200


@dataclass(frozen=True, slots=True)
class Bar:
    stars: int
    count: int
    share: float
    width: float
    y: float


def histogram(counts: Sequence[int], *, width: float = 200.0, row: float = 22.0) -> list[Bar]:
    """Horizontal bars, 5 stars on top, each as wide as its share of the largest count."""
    top = max(max(counts, default=0), 1)
    total = max(sum(counts), 1)
    return [
        Bar(stars=stars, count=counts[stars - 1], share=counts[stars - 1] / total,
            width=width * counts[stars - 1] / top, y=(5 - stars) * row)
        for stars in range(5, 0, -1)
    ]


@dataclass(frozen=True, slots=True)
class Cell:
    day: int
    hour: int
    fill: str
    label: str


def _duration(seconds: int) -> str:
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def heat_cells(heat_map: Sequence[Sequence[HeatCell]]) -> list[Cell]:
    """One cell per weekday and hour: darker green is a faster first reply, grey is no message,
    orange is questions left unanswered."""
    cells = []
    for day, row in enumerate(heat_map):
        for hour, cell in enumerate(row):
            asked = cell.answered + cell.unanswered
            when = f"{WEEKDAYS[day]} {hour:02d}:00"
            if asked == 0:
                cells.append(Cell(day, hour, "#eef0f2", f"{when}: no questions"))
                continue
            if cell.answered == 0 or cell.median_seconds is None:
                cells.append(Cell(day, hour, "#e8793a", f"{when}: {asked} unanswered"))
                continue
            # Lightness from the median first reply: under an hour dark, a day or more pale.
            speed = 1.0 - min(np.log1p(cell.median_seconds / 600) / np.log1p(144), 1.0)
            lightness = 78 - 48 * speed
            cells.append(Cell(day, hour, f"hsl(152 55% {lightness:.0f}%)",
                              f"{when}: {cell.answered} answered, median "
                              f"{_duration(cell.median_seconds)}"
                              + (f", {cell.unanswered} unanswered" if cell.unanswered else "")))
    return cells


def layout(n: int, edges: Sequence[tuple[int, int]], *, size: float = 1.0) -> np.ndarray:
    """Positions of ``n`` nodes in ``[0, size]²`` by a Fruchterman-Reingold force layout.

    Starts from a circle (so the result is deterministic, no random seed needed) and runs a fixed
    number of cooled iterations, all vectorised over node pairs.

    >>> p = layout(3, [(0, 1), (1, 2)])
    >>> p.shape, bool((p >= 0).all() and (p <= 1).all())
    ((3, 2), True)
    """
    if n == 0:
        return np.zeros((0, 2))
    angle = 2 * np.pi * np.arange(n) / n
    pos = np.column_stack([np.cos(angle), np.sin(angle)])
    if n == 1:
        return np.full((1, 2), size / 2)
    k = np.sqrt(4.0 / n)
    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    temperature = 0.2
    for _ in range(LAYOUT_ITERATIONS):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        force = (k * k / distance**2)[:, :, None] * delta  # repulsion between all pairs
        move = force.sum(axis=1)
        if pairs.size:
            d = pos[pairs[:, 0]] - pos[pairs[:, 1]]
            length = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
            pull = (length / k)[:, None] * d  # attraction along edges
            np.add.at(move, pairs[:, 0], -pull)
            np.add.at(move, pairs[:, 1], pull)
        step = np.maximum(np.linalg.norm(move, axis=1), 1e-9)
        pos += move / step[:, None] * np.minimum(step, temperature)[:, None]
        temperature *= 0.98
    low, high = pos.min(axis=0), pos.max(axis=0)
    span = np.where(high - low > 1e-9, high - low, 1.0)
    scaled: np.ndarray = (pos - low) / span * size
    return scaled
