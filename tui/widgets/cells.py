"""A table's cells as plain Segments: text drawn as written, cut to its column with an ellipsis.

A cell is a str or a rich Text. Neither is ever parsed as markup: values come from users'
data, where "[red]hot" is text to show and "a[/]b" would be a markup error. A Text keeps
its style, spans and justification; a str is drawn unstyled. Control characters (a newline
or tab inside a value) become spaces, since a newline inside a Segment would break the
terminal line it is drawn on.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

Cell = str | Text

MAX_COLUMN_WIDTH = 40
"""Widest a column gets; longer values end in an ellipsis (a table's `fit` column may get more)."""
FIT_MIN_WIDTH = 12
"""Narrowest a `fit` column gets before the table scrolls sideways instead."""
PADDING = 1
"""Blank cells on each side of every column."""
ELLIPSIS = "…"
_CONTROL = str.maketrans({code: " " for code in (*range(32), 127)})


def cell_key(cell: Cell) -> object:
    """What a cell shows, style included (rich's Text equality ignores the base style)."""
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), cell.justify, tuple(cell.spans))
    return cell


def cell_width(cell: Cell) -> int:
    """Cells the value takes as drawn (a tab or newline counts: it is drawn as a space)."""
    return cell_len((cell.plain if isinstance(cell, Text) else cell).translate(_CONTROL))


def column_widths(headers: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]]) -> list[int]:
    """Widths fitting the header and every row, not capped (see `fit_columns`).

    The caller passes every row, filtered out or not, so the layout holds still while
    the filter line narrows the table.
    """
    widths = [cell_len(header) for header in headers]
    for _, cells in rows:
        for index, cell in enumerate(cells[: len(widths)]):
            widths[index] = max(widths[index], cell_width(cell))
    return widths


def fit_columns(natural: Sequence[int], available: int | None, *, drop: Sequence[int] = (),
                fit: int | None = None) -> tuple[list[int], list[int]]:
    """Which columns to show, and how wide, in `available` cells (None: not laid out yet).

    Every column is as wide as its widest value, up to MAX_COLUMN_WIDTH. At narrow widths
    a table gives up its least important columns rather than cut its key facts: the
    columns in `drop` are left out, in that order, until the line fits (or, with a `fit`
    column, until that column gets the room it wants). The `fit` column (a message, a
    reason) takes the room the others leave, wider than the cap when there is room and
    down to FIT_MIN_WIDTH, ending in an ellipsis; where it is cut, the pane shows the
    whole text of the highlighted row elsewhere. A line that still does not fit scrolls.
    """
    widths = [min(width, MAX_COLUMN_WIDTH) for width in natural]
    shown = list(range(len(natural)))
    if available is None:
        return shown, widths
    wanted = widths[fit] if fit is not None else 0

    def others(columns: list[int]) -> int:
        return line_width([widths[index] for index in columns if index != fit])

    for index in drop:
        if others(shown) + (wanted + 2 * PADDING if fit is not None else 0) <= available:
            break
        shown.remove(index)
    if fit is not None:
        room = available - others(shown) - 2 * PADDING
        widths[fit] = max(min(room, natural[fit]), min(FIT_MIN_WIDTH, natural[fit]))
    return shown, [widths[index] for index in shown]


def line_width(widths: Sequence[int]) -> int:
    """Cells a line of these columns takes, padding included."""
    return sum(widths) + 2 * PADDING * len(widths)


def line_segments(cells: Sequence[Cell], widths: Sequence[int], console: Console) -> list[Segment]:
    """One table line: every column padded to its width, exactly `line_width(widths)` cells.

    Unstyled text is gathered into as few Segments as possible; missing cells are blank.
    `console` resolves style names of Text cells ("bold red") into styles.
    """
    segments: list[Segment] = []
    pending = ""  # unstyled text not yet in a Segment
    pad = " " * PADDING
    for index, width in enumerate(widths):
        cell = cells[index] if index < len(cells) else ""
        if isinstance(cell, str):
            text = _fit(cell.translate(_CONTROL), width)
            pending += pad + text + " " * (width - cell_len(text)) + pad
            continue
        text_cell = _fit_text(cell, width)
        space = width - text_cell.cell_len
        left = space if cell.justify == "right" else space // 2 if cell.justify == "center" else 0
        pending += pad + " " * left
        if text_cell.plain:
            if pending:
                segments.append(Segment(pending))
            segments.extend(_text_segments(text_cell, console))
            pending = ""
        pending += " " * (space - left) + pad
    if pending:
        segments.append(Segment(pending))
    return segments


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` cells, its last cell an ellipsis when something was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + ELLIPSIS


def _fit_text(cell: Text, width: int) -> Text:
    """A Text without control characters, cut like `_fit`; the cell itself is never changed."""
    plain = cell.plain.translate(_CONTROL)
    if plain != cell.plain:  # one character for one: the spans still line up
        cell = Text(plain, style=cell.style, justify=cell.justify, spans=cell.spans)
    if cell.cell_len > width:
        cell = cell.copy()
        cell.truncate(width, overflow="ellipsis")
    return cell


def _text_segments(cell: Text, console: Console) -> list[Segment]:
    # Text.render leaves out the base style when there are no spans (its callers add it).
    if not cell.spans:
        return [Segment(cell.plain, console.get_style(cell.style) if cell.style else None)]
    return list(cell.render(console))
