"""The upload grid's picture (reports/grid_png.py): each cell in its state's colour, words
in the cells that have some, a key of every state, a name beside each row."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from reports.grid import STATES, Grid, GridCell, GridRow, state_colour, to_png
from reports.grid_png import COLUMN, ROW, TOP

QUARTERS = tuple(
    {"label": f"Q{n} 2024/25", "range": f"range {n}", "due": "2025-01-01"} for n in range(1, 5)
)


def _grid(rows: list[tuple[str, ...]]) -> Grid:
    made = tuple(
        GridRow(
            f"Marac {i}",
            "London",
            "Met",
            tuple(
                GridCell(s, 3 if s in ("accepted", "held") else 0, 1 if s == "held" else 0)
                for s in states
            ),
        )
        for i, states in enumerate(rows)
    )
    return Grid("2024/25", "1 Apr 2024 – 31 Mar 2025", "London", date(2025, 2, 10), QUARTERS, made)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _left_of_grid(image: Image.Image) -> int:
    """The grid's first column: the first pixel of the first row in a state's colour."""
    y = TOP + ROW // 2
    colours = {_rgb(state_colour(s)) for s in STATES}
    return next(x for x in range(image.width) if image.getpixel((x, y)) in colours)


def _dark(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return any(
        sum(image.getpixel((x, y))) < 200  # type: ignore[arg-type]
        for x in range(box[0], box[2])
        for y in range(box[1], box[3])
    )


def test_every_cell_has_its_colour_and_its_words() -> None:
    rows = [("accepted", "held", "missing", "not-due"), ("overdue", "accepted", "held", "not-due")]
    image = _open(to_png(_grid(rows)))
    left = _left_of_grid(image)
    for y, states in enumerate(rows):
        top = TOP + ROW * y
        for x, state in enumerate(states):
            x0 = left + COLUMN * x
            assert image.getpixel((x0 + 6, top + ROW // 2)) == _rgb(state_colour(state))
            words = (x0 + 20, top + 3, x0 + COLUMN - 20, top + ROW - 3)
            assert _dark(image, words) is (state != "not-due"), (y, state)
        assert _dark(image, (0, top + 3, left - 2, top + ROW - 3))  # the Marac's name


def test_the_key_shows_every_state_and_the_title_is_written() -> None:
    image = _open(to_png(_grid([("accepted",) * 4])))
    key = {image.getpixel((x, image.height - 15)) for x in range(image.width)}
    assert {_rgb(state_colour(s)) for s in STATES} <= key
    assert _dark(image, (0, 20, image.width, 40))  # the title line


def test_a_national_grid_is_one_row_a_marac() -> None:
    image = _open(to_png(_grid([("accepted", "missing", "overdue", "not-due")] * 300)))
    assert image.height == TOP + round(ROW * 0.8) * 300 + 50


def test_an_empty_grid_says_so() -> None:
    image = _open(to_png(_grid([])))
    assert _dark(image, (0, TOP, image.width, TOP + ROW))  # "No Maracs to show."
