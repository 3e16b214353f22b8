"""What the buyer sees of a long answer and of the loan schedule table: desktop and phone."""
from __future__ import annotations

import re

from browser_helpers import open_demo_as, say, shot
from playwright.sync_api import expect

from fake_rasa import LOAN_TABLE, LOAN_TABLE_6  # noqa: E402  (tests/gateway is on sys.path)

# Where things are inside the widget frame, measured by the browser.
GEOMETRY = """() => {
  const log = document.getElementById('log').getBoundingClientRect();
  const logEl = document.getElementById('log');
  const rows = document.querySelectorAll('.row.has-table');
  const row = rows[rows.length - 1];
  const rect = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width}; };
  const scroller = row ? row.querySelector('.t-scroll') : null;
  return {
    log: rect(logEl), logScrollTop: logEl.scrollTop, logMaxScroll: logEl.scrollHeight - logEl.clientHeight,
    viewportWidth: window.innerWidth, docScrollWidth: document.documentElement.scrollWidth,
    row: row ? rect(row) : null,
    title: row ? rect(row.querySelector('.t-title')) : null,
    before: row && row.querySelector('.t-before') ? rect(row.querySelector('.t-before')) : null,
    header: row ? rect(row.querySelector('thead tr')) : null,
    scroller: scroller ? {...rect(scroller), scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth} : null,
    firstCell: row ? rect(row.querySelector('tbody tr th')) : null,
    lastHeader: row ? rect(row.querySelector('thead th:last-child')) : null,
  };
}"""


def widget_frame(page):
    return next(f for f in page.frames if "/widget/frame" in f.url)


def geometry(page):
    """GEOMETRY once the widget's layout has settled (two animation frames)."""
    frame = widget_frame(page)
    frame.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return frame.evaluate(GEOMETRY)


def in_view(box, log):
    return box["top"] >= log["top"] - 1 and box["bottom"] <= log["bottom"] + 1


def check_table(frame, payload):
    """The table shows exactly what the payload says, in order: before, title, header, rows, after."""
    table = frame.locator(".row.has-table").last
    expect(table.locator(".t-before")).to_have_text(payload["before"])
    expect(table.locator(".t-title")).to_have_text(payload["title"])
    expect(table.locator("thead th")).to_have_text(payload["columns"])
    expect(table.locator("tbody tr")).to_have_count(len(payload["rows"]))
    for i, row in enumerate(payload["rows"]):
        expect(table.locator("tbody tr").nth(i).locator("th, td")).to_have_text(row)
    expect(table.locator(".t-after")).to_have_text(payload["after"])
    return table


def fill_the_log(frame):
    """Enough earlier conversation that the log scrolls."""
    for text in ("what is pay later", "how do I apply", "which orders can I pay"):
        say(frame, text)
        expect(frame.locator(".row.bot .bubble").last).to_have_text(f"You said: {text}")


def test_loan_table_on_desktop(desktop, servers):
    page = desktop.new_page()
    frame = open_demo_as(page, servers, "buyer-001")
    fill_the_log(frame)
    say(frame, "loan table")
    check_table(frame, LOAN_TABLE)
    # the panel widens for the table's columns, and everything fits without sideways scrolling
    expect(page.locator("div.pl-panel")).to_have_class(re.compile("pl-wide"))
    assert page.locator("div.pl-panel").bounding_box()["width"] == 640
    g = geometry(page)
    assert g["scroller"]["scrollWidth"] <= g["scroller"]["clientWidth"], "the whole table fits on a desktop"
    assert in_view(g["before"], g["log"]) and in_view(g["title"], g["log"]) and in_view(g["header"], g["log"])
    assert g["row"]["top"] >= g["log"]["top"] - 1, "the answer opens at its start"
    assert g["docScrollWidth"] <= g["viewportWidth"]
    # numbers line up on the right
    assert frame.locator(".row.has-table tbody td.num").count() == 3 * 4  # Principal, Fee, Credit, You pay
    shot(page, "30-loan-table-desktop")

    # the longest schedule (six months, above the available credit) opens at its first sentence
    say(frame, "loan table 6")
    check_table(frame, LOAN_TABLE_6)
    g = geometry(page)
    assert in_view(g["before"], g["log"]) and in_view(g["title"], g["log"]) and in_view(g["header"], g["log"])
    assert g["scroller"]["scrollWidth"] <= g["scroller"]["clientWidth"]
    shot(page, "34-loan-table-6-months-desktop")


def test_loan_table_on_a_phone(phone, servers):
    page = phone.new_page()
    frame = open_demo_as(page, servers, "buyer-002")
    fill_the_log(frame)
    say(frame, "loan table 6")  # six months, an amount above the available credit (said first)
    check_table(frame, LOAN_TABLE_6)
    g = geometry(page)
    # the answer opens at its start: the sentence before the table, the title and the header row
    assert in_view(g["before"], g["log"]) and in_view(g["title"], g["log"]) and in_view(g["header"], g["log"])
    # nothing overflows the phone: the table scrolls sideways inside its own box
    assert g["docScrollWidth"] <= g["viewportWidth"] == 390
    assert g["row"]["right"] <= g["log"]["right"] and g["scroller"]["right"] <= g["log"]["right"]
    assert g["scroller"]["scrollWidth"] > g["scroller"]["clientWidth"]
    expect(frame.locator(".row.has-table .t-hint")).to_be_visible()
    shot(page, "31-loan-table-phone")

    # scrolled to the last column: the month column and the header row stay in place
    frame.locator(".row.has-table .t-scroll").evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    expect(frame.locator(".row.has-table .schedule")).to_have_class(re.compile("scrolled-end"))
    g2 = geometry(page)
    assert abs(g2["firstCell"]["left"] - g2["scroller"]["left"]) <= 2
    assert g2["lastHeader"]["right"] <= g2["scroller"]["right"] + 1
    shot(page, "32-loan-table-phone-scrolled")

    # back later (reload): the history opens at the start of the last answer too
    page.reload()
    expect(page.locator("#who")).to_contain_text("Signed in")
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    check_table(frame, LOAN_TABLE_6)
    widget_frame(page).wait_for_function("""() => {
      const log = document.getElementById('log'), t = document.querySelector('.row.has-table .t-before');
      if (!t) return false;
      const a = log.getBoundingClientRect(), b = t.getBoundingClientRect();
      return b.top >= a.top - 1 && b.bottom <= a.bottom + 1;
    }""")


def test_a_long_answer_opens_at_its_start(phone, servers):
    page = phone.new_page()
    frame = open_demo_as(page, servers, "buyer-001")
    fill_the_log(frame)
    say(frame, "long answer")
    expect(frame.locator(".row.bot .bubble").last).to_have_text("Anything else?")
    long_row = frame.locator(".row.bot", has_text="How Pay Later works, step by step:").last
    first = long_row.evaluate("""row => {
      const log = document.getElementById('log');
      const r = row.getBoundingClientRect(), l = log.getBoundingClientRect();
      return {rowTop: r.top, logTop: l.top, logBottom: l.bottom, atEnd: log.scrollTop >= log.scrollHeight - log.clientHeight - 2};
    }""")
    assert first["logTop"] - 1 <= first["rowTop"] < first["logBottom"], "its first line is in view"
    assert not first["atEnd"], "not scrolled to its end"
    shot(page, "33-long-answer-opens-at-start-phone")

    # the buyer's next message and a short reply scroll to the end as before
    say(frame, "thanks")
    expect(frame.locator(".row.bot .bubble").last).to_have_text("You said: thanks")
    widget_frame(page).wait_for_function(  # the log settles at its end (typing dots and composer resize first)
        "() => { const l = document.getElementById('log'); return l.scrollTop >= l.scrollHeight - l.clientHeight - 2; }")


def test_table_strings_are_shown_as_text(desktop, servers):
    page = desktop.new_page()
    frame = open_demo_as(page, servers, "buyer-001")
    say(frame, "evil table")
    table = frame.locator(".row.has-table").last
    expect(table.locator(".t-title")).to_have_text('<img src=x onerror="window.__pwned=1"> title')
    expect(table.locator(".t-after")).to_have_text("<b>after</b>")
    assert table.locator("img, b, script").count() == 0
    assert widget_frame(page).evaluate("() => window.__pwned") is None
