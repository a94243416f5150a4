"""PDF documents of orders, drawn with fpdf2 and the vendored DejaVu fonts (Cyrillic).

Pure Python on purpose: `make run` needs nothing but Python. The functions here only
draw; storing a document with its hash is `services.document_store`.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

# fontTools logs every glyph it subsets at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
LINE = 5.6


@dataclass(frozen=True)
class SignatureBlock:
    """The simple electronic signature printed under a signed order."""

    heading: str
    lines: list[tuple[str, str]]  # (label, value)


def _pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("Otklik")
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, title: str, subtitle: str) -> None:
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if subtitle:
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(0, LINE, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(5)


def _text(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "", 10.5)
    for paragraph in text.strip().split("\n"):
        if not paragraph.strip():
            pdf.ln(2.5)
            continue
        pdf.multi_cell(0, LINE, paragraph.rstrip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _facts(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(62, LINE + 1, label)
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, LINE + 1, value or "—", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _signature(pdf: FPDF, block: SignatureBlock) -> None:
    pdf.ln(6)
    top = pdf.get_y()
    pdf.set_draw_color(15, 110, 92)
    pdf.set_font(FONT, "B", 10.5)
    pdf.set_text_color(15, 110, 92)
    pdf.multi_cell(0, 7, block.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    for label, value in block.lines:
        pdf.set_font(FONT, "", 9)
        pdf.cell(52, 5.2, label)
        pdf.multi_cell(0, 5.2, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    bottom = pdf.get_y() + 2
    pdf.rect(pdf.l_margin - 3, top - 2, pdf.w - pdf.l_margin - pdf.r_margin + 6, bottom - top + 2)


def render_document(
    *,
    title: str,
    subtitle: str = "",
    text: str = "",
    facts: list[tuple[str, str]] | None = None,
    footer: str = "",
    signature: SignatureBlock | None = None,
) -> bytes:
    """One document: title, optional label–value rows, text, signature block, footer."""
    pdf = _pdf(title)
    _heading(pdf, title, subtitle)
    if facts:
        _facts(pdf, facts)
        pdf.ln(4)
    if text:
        _text(pdf, text)
    if signature is not None:
        _signature(pdf, signature)
    if footer:
        pdf.ln(8)
        pdf.set_font(FONT, "", 8.5)
        pdf.set_text_color(100, 100, 100)
        pdf.multi_cell(0, 4.5, footer, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
