"""The upload grid as a PNG, drawn with Pillow: one filled rectangle and one line of text per
cell on a palette of five colours.

matplotlib made a text artist per cell and laid each one out through its transforms: 0.4-0.9 s
for a region and over 2 s for every Marac (issue 14). The picture here keeps its layout,
colours and words (title, quarter headings with dates, names, a label in each cell, the key),
at the same 100 pixels an inch.
"""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kernel import wording

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

    from reports.grid import Grid

    Font = FreeTypeFont | ImageFont

DPI = 100
ROW = 26  # pixels a row; 21 past 60 rows
COLUMN = 130
TOP = 95  # the title and the quarter headings
BOTTOM = 50  # the key
_INK = (0, 0, 0)
_EDGE = (153, 153, 153)
_WHITE = (255, 255, 255)
_SYSTEM_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _points(size: float) -> int:
    """A font size in points as pixels at the picture's resolution."""
    return round(size * DPI / 72)


@lru_cache(maxsize=8)
def _font(points: float) -> Font:
    """DejaVu Sans (it has the ✓), from matplotlib's data or the system, found without
    importing either; Pillow's own font if neither is there."""
    from PIL import ImageFont

    for path in _font_paths():
        if path.is_file():
            return ImageFont.truetype(str(path), _points(points))
    return ImageFont.load_default(_points(points))


def _font_paths() -> list[Path]:
    spec = importlib.util.find_spec("matplotlib")
    folders = (spec.submodule_search_locations or []) if spec else []
    return [
        *(Path(p) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf" for p in folders),
        _SYSTEM_FONT,
    ]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def to_png(grid: Grid, colours: dict[str, str], states: tuple[str, ...]) -> bytes:
    """The grid as a PNG: ``colours`` by state, the key in the order of ``states``."""
    from PIL import Image, ImageDraw

    n_rows = max(len(grid.rows), 1)
    row = ROW if n_rows <= 60 else round(ROW * 0.8)
    longest = max([10, *(len(r.marac) for r in grid.rows)])
    names = round(DPI * min(4.0, 0.4 + 0.07 * longest))
    n_cols = len(grid.quarters)
    width, height = names + COLUMN * n_cols + 20, TOP + row * n_rows + BOTTOM
    image = Image.new("RGB", (width, height), _WHITE)
    draw = ImageDraw.Draw(image)
    draw.text(
        (10, 30),
        wording.grid_title(grid.area, grid.year, grid.year_range, grid.as_of),
        fill=_INK,
        font=_font(10),
        anchor="lm",
    )
    _headings(draw, grid, names)
    _cells(image, draw, grid, (names, row), colours)
    _key(draw, width, height, colours, states)
    out = io.BytesIO()
    # Level 3: a national grid encodes several times quicker than at the default level 6,
    # for a file a little larger.
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _headings(draw: ImageDraw, grid: Grid, left: int) -> None:
    font = _font(7)
    for x, quarter in enumerate(grid.quarters):
        middle = left + COLUMN * x + COLUMN // 2
        short = quarter["label"].split()[0]
        draw.text((middle, TOP - 22), short, fill=_INK, font=font, anchor="mm")
        draw.text((middle, TOP - 10), quarter["range"], fill=_INK, font=font, anchor="mm")


def _cells(
    image: Image, draw: ImageDraw, grid: Grid, place: tuple[int, int], colours: dict[str, str]
) -> None:
    """Each cell pasted from a tile drawn once per look (state, words, place at an edge): a
    national grid has 1,200 cells but a few dozen looks, and drawing text is the slow part."""
    left, row = place
    fills = {state: _rgb(colour) for state, colour in colours.items()}
    tiles: dict[tuple[str, str, bool, bool], Image] = {}
    name_font = _font(8)
    for y, marac in enumerate(grid.rows):
        top = TOP + row * y
        draw.text((left - 4, top + row // 2), marac.marac, fill=_INK, font=name_font, anchor="rm")
        for x, cell in enumerate(marac.cells):
            look = (cell.state, wording.grid_cell_label(cell.state, cell.meetings), x > 0, y > 0)
            tile = tiles.get(look)
            if tile is None:
                tile = tiles[look] = _tile(look, row, fills[cell.state])
            image.paste(tile, (left + COLUMN * x, top))
    if not grid.rows:
        draw.text(
            (left + COLUMN * len(grid.quarters) // 2, TOP + row // 2),
            wording.GRID_EMPTY,
            fill=_INK,
            font=name_font,
            anchor="mm",
        )


def _tile(look: tuple[str, str, bool, bool], row: int, fill: tuple[int, int, int]) -> Image:
    """One cell with its white gaps: 2 pixels between quarters, 1 between rows."""
    from PIL import Image as Images
    from PIL import ImageDraw

    _, label, after_column, after_row = look
    tile = Images.new("RGB", (COLUMN, row), _WHITE)
    draw = ImageDraw.Draw(tile)
    draw.rectangle(
        (1 if after_column else 0, 1 if after_row else 0, COLUMN - 2, row - 1), fill=fill
    )
    if label:
        draw.text((COLUMN // 2, row // 2), label, fill=_INK, font=_font(7), anchor="mm")
    return tile


def _key(
    draw: ImageDraw, width: int, height: int, colours: dict[str, str], states: tuple[str, ...]
) -> None:
    font = _font(8)
    labels = [wording.GRID_STATE_LABELS[s] for s in states]
    swatch, gap, space = 28, 8, 24
    widths = [swatch + gap + round(draw.textlength(label, font=font)) for label in labels]
    x = (width - sum(widths) - space * (len(states) - 1)) // 2
    middle = height - 15
    for state, label, item in zip(states, labels, widths, strict=True):
        draw.rectangle(
            (x, middle - 5, x + swatch, middle + 5), fill=_rgb(colours[state]), outline=_EDGE
        )
        draw.text((x + swatch + gap, middle), label, fill=_INK, font=font, anchor="lm")
        x += item + space
