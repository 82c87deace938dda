"""The month statement in Markdown, HTML, CSV and JSON: every fact of the sample, in every format."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.statements.chart import MAX_TICKS, scale_for
from monitor.statements.model import Statement
from monitor.statements.render import FORMATS, NO_DETAILS, local_time, render
from tests.statement_samples import CONTRACT_REVIEW, CREDIT_AMOUNT, CREDIT_WORDS, FEE_WORDS, sample_statement

HUMAN = ("md", "html")
CHROMIUM_TIMEOUT = 60


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def section(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    return [row for row in rows if row["section"] == name]


# key facts in every format -------------------------------------------------------------------


@pytest.mark.parametrize("final", [True, False], ids=["final", "provisional"])
@pytest.mark.parametrize("fmt", ["md", "html", "csv"])
def test_text_formats_hold_the_key_facts(fmt: str, final: bool) -> None:
    statement = sample_statement(final=final)
    text = render(statement, fmt)
    amount = CREDIT_AMOUNT if fmt == "csv" else CREDIT_WORDS  # CSV keeps the exact decimal
    for fact in ("Acme Corp", "CloudCo Ltd", "acme-hosting", "October 2026", amount, CONTRACT_REVIEW):
        assert fact in text, fact
    assert ("FINAL" if final else "PROVISIONAL") in text
    assert final is ("PROVISIONAL" not in text)
    assert ("figures may still change" in text) is not final
    for clause in statement.clauses:
        assert f"{clause.attained_percent:.3f}" in text
        assert f"{clause.target_percent:.3f}" in text
        assert clause.text in text
    for ticket in statement.clauses[1].missed_tickets:
        assert ticket.ticket_id in text


@pytest.mark.parametrize("fmt", HUMAN)
def test_human_formats_show_the_month_and_every_line(fmt: str) -> None:
    statement = sample_statement(final=False)
    text = render(statement, fmt)
    cell = "| {} |" if fmt == "md" else ">{}</td>"
    assert local_time(statement.period_start) in text
    assert local_time(statement.period_end) in text
    uptime = statement.clauses[0]
    for outage in uptime.outages:
        assert local_time(outage.start) in text
        assert cell.format(outage.minutes) in text
    assert "ongoing (as of 2026-10-28 18:30 +01:00)" in text
    for line in uptime.maintenance:
        assert local_time(line.start) in text
    assert "2026-10-25 03:00 +01:00" in text  # the window that ends after summer time
    assert cell.format("announced") in text and cell.format("scheduled") in text
    assert cell.format("none") in text  # the ticket never answered
    assert "Tickets counted: 34; on time: 30; missed: 4." in text
    assert cell.format("2026-09") in text and cell.format("provisional") in text
    for words in ("30%", "20% of the monthly fee", FEE_WORDS, CREDIT_WORDS):
        assert words in text


def test_json_holds_the_whole_statement() -> None:
    statement = sample_statement(final=False)
    document = json.loads(render(statement, "json"))
    assert (document["status"], document["status_note"]) == ("PROVISIONAL", "figures may still change")
    assert (document["customer"], document["provider"]) == ("Acme Corp", "CloudCo Ltd")
    assert document["period_label"] == "October 2026" and document["final"] is False
    assert document["remedies"] == [CONTRACT_REVIEW]
    for got, clause in zip(document["clauses"], statement.clauses, strict=True):
        assert got["attained_percent"] == clause.attained_percent
        assert got["target_percent"] == clause.target_percent
        assert got["details_note"] is None
    uptime, response = document["clauses"]
    assert [o["minutes"] for o in uptime["outages"]] == ["20", "72", "35", "210", "150"]
    assert [o["open"] for o in uptime["outages"]] == [False] * 4 + [True]
    assert [t["ticket_id"] for t in response["missed_tickets"]] == [
        t.ticket_id for t in statement.clauses[1].missed_tickets
    ]
    assert response["missed_tickets"][2]["first_measure"] is None
    assert len(uptime["daily"]) == 31 and uptime["daily"][0]["day"] == "2026-10-01"


def test_json_keeps_amounts_as_strings_and_times_with_offsets() -> None:
    statement = sample_statement()
    text = render(statement, "json")
    document = json.loads(text)
    assert document["credit_amount"] == CREDIT_AMOUNT
    assert Decimal(document["credit_amount"]) == statement.credit_amount
    assert (document["monthly_fee"], document["cap_percent"]) == ("12000.00", "20")
    assert document["period_start"] == "2026-10-01T00:00:00+02:00"
    assert document["period_end"] == "2026-11-01T00:00:00+01:00"
    assert datetime.fromisoformat(document["generated_at"]) == statement.generated_at
    assert list(document)[:4] == ["status", "status_note", "contract_id", "customer"]
    assert render(statement, "json") == text  # stable


def test_csv_is_one_table_with_sections() -> None:
    statement = sample_statement(final=False)
    rows = csv_rows(render(statement, "csv"))
    assert {row["section"] for row in rows} == {
        "contract",
        "clause",
        "clause_remedy",
        "outage",
        "maintenance",
        "tickets",
        "missed_ticket",
        "daily",
        "history",
        "credit",
        "remedy",
    }
    contract = {row["item"]: row for row in section(rows, "contract")}
    assert contract["customer"]["text"] == "Acme Corp" and contract["provider"]["text"] == "CloudCo Ltd"
    assert contract["status"]["status"] == "PROVISIONAL"
    assert contract["period"]["start"] == "2026-10-01T00:00:00+02:00"
    clauses = section(rows, "clause")
    assert [(c["clause"], c["attained_percent"], c["met"]) for c in clauses] == [
        ("api-uptime", "98.766", "no"),
        ("p1-response", "88.235", "no"),
    ]
    outages = section(rows, "outage")
    assert [o["minutes"] for o in outages] == ["20", "72", "35", "210", "150"]
    assert outages[-1]["status"] == "ongoing"
    assert [t["first_measure"] for t in section(rows, "missed_ticket")][2] == "none"
    credit = {row["item"]: row for row in section(rows, "credit")}
    assert (credit["amount"]["amount"], credit["amount"]["currency"]) == (CREDIT_AMOUNT, "EUR")
    assert (credit["uncapped_percent"]["percent"], credit["credit_percent"]["percent"]) == ("30", "20")
    assert len(section(rows, "daily")) == 31


def test_csv_quotes_commas_quotes_and_formulas() -> None:
    statement = replace(sample_statement(), customer='Acme, "the Client"', provider="=HYPERLINK(1)")
    contract = {row["item"]: row for row in section(csv_rows(render(statement, "csv")), "contract")}
    assert contract["customer"]["text"] == 'Acme, "the Client"'
    assert contract["provider"]["text"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("fmt", FORMATS)
def test_amounts_are_printed_exactly(fmt: str) -> None:
    statement = replace(sample_statement(), credit_amount=Decimal("1234567890123.10"))
    exact = "1234567890123.10" if fmt in ("csv", "json") else "1,234,567,890,123.10"
    assert exact in render(statement, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_details_are_said_plainly(fmt: str) -> None:
    text = render(sample_statement(with_outages=False), fmt)
    assert text.count(NO_DETAILS) == 2
    assert "ACME-4711" not in text


@pytest.mark.parametrize("fmt", HUMAN)
def test_no_cap_and_no_remedies(fmt: str) -> None:
    statement = replace(sample_statement(), cap_percent=None, remedies=[])
    text = render(statement, fmt)
    assert "no cap" in text and "none beyond the service credit" in text


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="md, html, csv, json"):
        render(sample_statement(), "pdf")


# HTML ----------------------------------------------------------------------------------------


def test_html_has_a_chart_per_uptime_clause() -> None:
    statement = sample_statement()
    html = render(statement, "html")
    uptime = [c for c in statement.clauses if c.kind == "uptime"]
    assert html.count("<svg") == len(uptime) == 1
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "aria-labelledby=" in svg
    assert "<title" in svg and "Daily availability of api-uptime, October 2026" in svg
    assert "target 99.500%" in svg
    assert svg.count("<rect") == 31


def test_html_is_self_contained() -> None:
    html = render(sample_statement(final=False), "html")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html
    assert "@media print" in html and "@page" in html


def test_html_escapes_contract_text() -> None:
    sample = sample_statement()
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    clause = replace(sample.clauses[0], text=attack, remedies=[attack])
    statement = replace(sample, customer=attack, clauses=[clause, sample.clauses[1]])
    html = render(statement, "html")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    markdown = render(statement, "md")
    assert r"\<script\>" in markdown and not re.search(r"(?<!\\)<", markdown)  # every < escaped


def test_chart_scale_is_sensible() -> None:
    scale = scale_for([100.0, 86.667, 99.9], target=99.5)
    assert 80 <= scale.low < 86.667
    assert scale.ticks()[0] == 100.0 and len(scale.ticks()) <= MAX_TICKS + 1
    calm = scale_for([100.0, 100.0], target=99.9)
    assert 99.5 <= calm.low < 99.9


# screenshots ---------------------------------------------------------------------------------


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is needed to check the HTML statement renders: apt-get install chromium")
    return path


def headless(tmp_path: Path, *args: str) -> None:
    command = [
        chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=CHROMIUM_TIMEOUT)


def png_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, channels and unfiltered rows of an 8-bit, non-interlaced RGB(A) PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and colour in (2, 6) and interlace == 0
    channels = 3 if colour == 2 else 4
    return width, channels, unfilter(zlib.decompress(chunks[b"IDAT"]), height, width * channels, channels)


def unfilter(raw: bytes, height: int, stride: int, bpp: int) -> list[bytes]:
    rows, prev, pos = [], bytes(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += stride + 1
        if kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind:
            for i in range(stride):
                left, up_left = (line[i - bpp], prev[i - bpp]) if i >= bpp else (0, 0)
                line[i] = (line[i] + predict(kind, left, prev[i], up_left)) & 255
        rows.append(bytes(line))
        prev = line
    return rows


def predict(kind: int, a: int, b: int, c: int) -> int:
    if kind == 1:
        return a
    if kind == 3:
        return (a + b) >> 1
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def pixel_census(png: bytes) -> tuple[float, float, int]:
    """Share of inked (not near-white) pixels, share of strongly coloured ones, distinct colours."""
    width, channels, rows = png_rows(png)
    inked = coloured = 0
    colours: set[bytes] = set()
    for row in rows[::2]:  # every other row is plenty
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add(row[x : x + 3])
            inked += min(r, g, b) < 225
            coloured += max(r, g, b) - min(r, g, b) > 90
    total = width * len(rows[::2])
    return inked / total, coloured / total, len(colours)


@pytest.mark.parametrize("final", [True, False], ids=["final", "provisional"])
def test_html_screenshot_is_a_readable_page(tmp_path: Path, final: bool) -> None:
    page = tmp_path / "statement.html"
    page.write_text(render(sample_statement(final=final), "html"), encoding="utf-8")
    shot = tmp_path / "statement.png"
    headless(tmp_path, f"--screenshot={shot}", "--window-size=1240,1754", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
    inked, coloured, colours = pixel_census(shot.read_bytes())
    assert 0.03 < inked < 0.6, f"page looks blank or flooded: {inked:.1%} inked"
    assert coloured > 0.005, f"the status and chart colours are missing: {coloured:.2%}"
    assert colours > 100


def test_html_prints_to_pdf(tmp_path: Path) -> None:
    page = tmp_path / "statement.html"
    page.write_text(render(sample_statement(), "html"), encoding="utf-8")
    pdf = tmp_path / "statement.pdf"
    headless(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2


def test_sample_statement_is_consistent() -> None:
    statement: Statement = sample_statement()
    uptime, response = statement.clauses
    assert sum(o.minutes for o in uptime.outages) == 529
    assert sum(m.minutes for m in uptime.maintenance) == 570
    assert round(uptime.attained_percent, 9) == round(100 * (44130 - 529) / 44130, 9)
    assert [d.day.day for d in uptime.daily] == list(range(1, 32))
    assert response.tickets_counted is not None and response.tickets_on_time is not None
    assert response.tickets_counted - response.tickets_on_time == len(response.missed_tickets)
    assert statement.credit_amount == statement.monthly_fee * statement.credit_percent / 100


@pytest.mark.parametrize("fmt", HUMAN)
@pytest.mark.parametrize(
    ("currency", "fee", "amount", "shown_fee", "shown_amount"),
    [
        ("USD", "8500", "1275.00", "8,500.00 USD", "1,275.00 USD"),  # a fee written without cents
        ("JPY", "1234567", "185185", "1,234,567 JPY", "185,185 JPY"),  # no minor unit
        ("BHD", "1000.5", "100.05", "1,000.500 BHD", "100.050 BHD"),  # three decimals
    ],
)
def test_amounts_read_alike_everywhere_in_a_statement(
    fmt: str, currency: str, fee: str, amount: str, shown_fee: str, shown_amount: str
) -> None:
    statement = replace(
        sample_statement(), currency=currency, monthly_fee=Decimal(fee), credit_amount=Decimal(amount)
    )
    text = render(statement, fmt)
    assert text.count(shown_fee) >= 2  # the parties' facts and the credit table
    assert text.count(shown_amount) >= 2  # the summary and the credit table
    assert f"{fee} {currency}" not in text and f"{amount} {currency}" not in text
