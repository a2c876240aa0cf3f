"""Tool calls drawn as chips in reply text: a rounded, tinted inline box reading `Calculator(1080 * 5 / 4) → 1350`.

A chip is a custom inline object of the reply's `QTextDocument` (`ChipPainter`, a `QTextObjectInterface`): it
flows and wraps with the words around it, sits on the text line, and is painted here. `split_reply` turns a raw
reply (the model's text with call markup, parsed by `studio.assistant.calls`) into text and chips; a call still
being written shows as a pending chip, so the markup never flashes on screen while the reply streams in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPen,
    QPyTextObject,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from studio.assistant.calls import ARROW, ToolCall, find_calls, unclosed_call_start

_BROKEN_CALL = re.compile(r"\[\s*([A-Za-z_]\w*\([^\[\]]*)\]")
CHIP_OBJECT = QTextFormat.ObjectTypes.UserObject + 1
CHIP_PROPERTY = QTextFormat.Property.UserProperty + 1
PAD_X = 7.0
PAD_Y = 2.0
GAP = 2.0  # space kept free left and right of a chip


@dataclass(frozen=True)
class Chip:
    """What one chip shows: the tool, its argument, the result (None: none yet or none at all), and its state:
    "done", "pending" (still being written) or "failed" (the tool gave no result)."""

    tool: str
    argument: str
    result: str | None
    state: str = "done"

    @classmethod
    def of_call(cls, call: ToolCall) -> Chip:
        return cls(tool=call.tool, argument=call.input, result=call.result,
                   state="done" if call.result is not None else "failed")

    @property
    def tail(self) -> str:
        """The text after the tool name: the argument and the result."""
        if self.state == "pending":
            return f"({self.argument} …"
        return f"({self.argument}) {ARROW} {self.result if self.result is not None else 'no result'}"

    @property
    def text(self) -> str:
        """The chip as plain text (tooltips, copies, tests)."""
        return f"{self.tool}({self.argument}) {ARROW} {self.result if self.result is not None else ''}".strip()


TINTS = {  # tool: (fill, border, name colour)
    "Calculator": ("#203a5c", "#3f6ea8", "#9cc8ff"),
    "Calendar": ("#3a2650", "#7451a0", "#d3b5ff"),
}
OTHER_TINT = ("#3a3a40", "#5c5c66", "#d0d0d8")
FAILED_TINT = ("#4a2628", "#8a4a4e", "#ffb4b4")


class ChipPainter(QPyTextObject):
    """Sizes and paints chip objects for the documents it is registered with (see `install_chips`)."""

    def _fonts(self, document: QTextDocument) -> tuple[QFont, QFont]:
        font = QFont(document.defaultFont())
        font.setPointSizeF(font.pointSizeF() * 0.92)
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        return font, bold

    def intrinsicSize(self, document: QTextDocument, _position: int, text_format: QTextFormat) -> QSizeF:
        chip: Chip = text_format.property(CHIP_PROPERTY)
        font, bold = self._fonts(document)
        width = (QFontMetricsF(bold).horizontalAdvance(chip.tool)
                 + QFontMetricsF(font).horizontalAdvance(chip.tail) + 2 * PAD_X + 2)  # +2: rounding, pen
        limit = document.textWidth() - 2 * GAP - 8 if document.textWidth() > 0 else width
        height = QFontMetricsF(font).height() + 2 * PAD_Y
        return QSizeF(min(width, max(limit, 60.0)) + 2 * GAP, height)

    def drawObject(self, painter: QPainter, rect: QRectF, document: QTextDocument, _position: int,
                   text_format: QTextFormat) -> None:
        chip: Chip = text_format.property(CHIP_PROPERTY)
        fill, border, name_color = FAILED_TINT if chip.state == "failed" else TINTS.get(chip.tool, OTHER_TINT)
        font, bold = self._fonts(document)
        box = rect.adjusted(GAP + 0.5, 0.5, -GAP - 0.5, -0.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(border), 1.0, Qt.PenStyle.DashLine if chip.state == "pending" else Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        painter.setBrush(QColor(fill))
        radius = box.height() / 2
        painter.drawRoundedRect(box, radius, radius)
        text_box = box.adjusted(PAD_X, 0, -PAD_X, 0)
        name = chip.tool
        painter.setFont(bold)
        painter.setPen(QColor(name_color))
        painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        name_width = QFontMetricsF(bold).horizontalAdvance(name)
        rest = text_box.adjusted(name_width, 0, 0, 0)
        painter.setFont(font)
        painter.setPen(QColor("#e8e8ec" if chip.state != "pending" else "#a8a8b0"))
        tail = QFontMetricsF(font).elidedText(chip.tail, Qt.TextElideMode.ElideMiddle, rest.width())
        painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, tail)
        painter.restore()


def install_chips(document: QTextDocument, painter: ChipPainter) -> None:
    """Let `document` show chips (the painter must outlive it: keep a reference)."""
    document.documentLayout().registerHandler(CHIP_OBJECT, painter)


def insert_chip(cursor: QTextCursor, chip: Chip) -> None:
    """Insert `chip` at `cursor` as one inline object, centred on the text line."""
    chip_format = QTextCharFormat()
    chip_format.setObjectType(CHIP_OBJECT)
    chip_format.setProperty(CHIP_PROPERTY, chip)
    chip_format.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
    chip_format.setToolTip(chip.text)
    cursor.insertText("\ufffc", chip_format)


def _pieces(document: QTextDocument, start: int, end: int) -> list[str | Chip]:
    """The text and chips of `document` between two positions, in order."""
    pieces: list[str | Chip] = []
    block = document.begin()
    while block.isValid():
        if start < block.position() <= end:
            pieces.append("\n")
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            low, high = max(start, fragment.position()), min(end, fragment.position() + fragment.length())
            if low < high:
                chip = fragment.charFormat().property(CHIP_PROPERTY)
                if isinstance(chip, Chip):
                    pieces.extend([chip] * (high - low))
                else:
                    pieces.append(fragment.text()[low - fragment.position():high - fragment.position()])
            iterator += 1
        block = block.next()
    return pieces


def reply_chips(document: QTextDocument) -> list[Chip]:
    """The chips in `document`, in order (what a reply view shows)."""
    return [piece for piece in _pieces(document, 0, document.characterCount()) if isinstance(piece, Chip)]


def text_with_calls(document: QTextDocument, start: int = 0, end: int | None = None) -> str:
    """The text between two positions with each chip written back as its call, `[Calculator(2 * 3) → 6]`
    (what copying a reply gives)."""
    end = document.characterCount() - 1 if end is None else end
    return "".join(f"[{piece.text}]" if isinstance(piece, Chip) else piece for piece in _pieces(document, start, end))


def _unrun_chip(written: str, *, state: str) -> Chip:
    """A chip for call text that did not run: `Calculator(2 * 3` (still being written, or broken)."""
    tool, _, argument = written.partition("(")
    argument = re.split(r"→|->", argument)[0].strip().removesuffix(")").strip()
    return Chip(tool=tool.strip() or "…", argument=argument, result=None, state=state)


def _text_and_broken_calls(text: str) -> list[str | Chip]:
    """Text with broken calls the runtime did not run (`[Calculator(2 * 3]`: no arrow) as failed chips."""
    pieces: list[str | Chip] = []
    position = 0
    for match in _BROKEN_CALL.finditer(text):
        pieces.append(text[position:match.start()])
        pieces.append(_unrun_chip(match.group(1), state="failed"))
        position = match.end()
    pieces.append(text[position:])
    return pieces


def split_reply(raw: str, *, streaming: bool) -> list[str | Chip]:
    """The raw reply as text pieces and chips, so no call markup is shown. While `streaming`, a call still being
    written is a pending chip; calls that did not run (broken, or never closed once the reply is finished) are
    failed chips."""
    pieces: list[str | Chip] = []
    position = 0
    for span in find_calls(raw):
        pieces.extend(_text_and_broken_calls(raw[position:span.start]))
        pieces.append(Chip.of_call(span.call))
        position = span.end
    tail = raw[position:]
    start = unclosed_call_start(tail)
    if start is None or ("(" not in tail[start:] and not streaming):
        pieces.extend(_text_and_broken_calls(tail))
    else:
        pieces.extend(_text_and_broken_calls(tail[:start]))
        pieces.append(_unrun_chip(tail[start + 1:], state="pending" if streaming else "failed"))
    if pieces and isinstance(pieces[0], str):
        pieces[0] = pieces[0].lstrip()
    return [piece for piece in pieces if piece != ""]
