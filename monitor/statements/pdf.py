"""The statement's HTML as a PDF (WeasyPrint): the same page, with page numbers and the
generation time in every page's margin (the template's ``@page`` margin boxes)."""

from __future__ import annotations

SYSTEM_LIBRARIES = "Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here: a system library it needs is missing."""


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page (no external assets) as PDF bytes."""
    try:
        from weasyprint import HTML
    except OSError as error:  # WeasyPrint loads Pango with ctypes when imported
        raise PdfUnavailable(f"PDF output needs {SYSTEM_LIBRARIES}: {error}") from None
    document: bytes = HTML(string=html, base_url=None).write_pdf()
    return document
