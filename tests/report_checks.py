"""What every HTML report must be: self-contained (no script or style fetched from anywhere)
and valid enough to read back; shared by the report tests and the end-to-end measure test."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.scripts = 0
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if values.get("src"):
                self.external.append(f"script src={values['src']}")
        if tag == "link" and values.get("href"):
            self.external.append(f"link href={values['href']}")  # a stylesheet, an icon
        if tag in ("img", "iframe", "embed", "object", "source") and (
            values.get("src") or values.get("data")
        ):
            self.external.append(f"{tag} {values.get('src') or values.get('data')}")
        if tag == "style" or (tag == "link" and values.get("rel") == "stylesheet"):
            pass
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2 and data.strip():
            self.headings.append(data.strip())


def check_self_contained(path: Path) -> list[str]:
    """The report's section headings, after checking that no script, stylesheet, image or
    frame is loaded from outside the file (`@import` and `url(` in its styles included)."""
    text = path.read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(text)
    assert parser.external == [], parser.external
    assert parser.scripts >= 2  # plotly.js and at least one chart
    head = text[: text.index("<script>")]
    assert "@import" not in head
    assert "url(" not in head
    assert text.rstrip().endswith("</html>")
    return parser.headings
