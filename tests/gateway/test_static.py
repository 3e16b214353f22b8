"""The widget, console and demo pages: served with a strict CSP, and no HTML injection sinks."""
from __future__ import annotations

from pathlib import Path

import bot.gateway

STATIC = Path(bot.gateway.__file__).resolve().parent / "static"


async def test_pages_have_a_strict_csp(gateway):
    for path in ("/widget/frame", "/console", "/demo", "/widget.js", "/openapi.json"):
        r = await gateway.get(path)
        assert r.status == 200, path
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    frame = await gateway.get("/widget/frame")
    assert "frame-ancestors 'self' https://shop.example.com" in frame.headers["Content-Security-Policy"]
    console = await gateway.get("/console")
    assert console.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in console.headers["Content-Security-Policy"]


def test_no_inline_scripts_and_no_html_sinks():
    for js in STATIC.glob("*.js"):
        src = js.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in src, f"{js.name} uses {sink}"
    for page in STATIC.glob("*.html"):
        html = page.read_text()
        assert "<script>" not in html and "onclick=" not in html and "style=" not in html, page.name
    assert "textContent" in (STATIC / "widget-app.js").read_text()
