"""Render the app icons (PNG) from web/icons/walker.svg with Debian's Chromium.

Run after changing the artwork: `python tests/browser_render_icons.py`. The PNGs are
committed, so neither the app nor its tests need this at run time.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "web" / "icons"
BACKGROUND = "#0b1220"
# name, size in px, share of the square the artwork fills (maskable icons keep the walker
# inside the 80% safe circle; iOS rounds the touch icon's corners itself).
RENDERS = [
    ("icon-192.png", 192, 1.0, True),
    ("icon-512.png", 512, 1.0, True),
    ("maskable-192.png", 192, 0.78, False),
    ("maskable-512.png", 512, 0.78, False),
    ("apple-touch-icon.png", 180, 0.86, False),
]
CHROMIUM = "/usr/bin/chromium"


def page_for(svg: str, size: int, scale: float, transparent: bool) -> str:
    """A page that shows the artwork at `scale` of a `size` square, full-bleed when not transparent."""
    background = "transparent" if transparent else BACKGROUND
    art = size * scale
    return (
        f"<html><body style='margin:0;background:{background}'>"
        f"<div style='width:{size}px;height:{size}px;display:grid;place-items:center'>"
        f"<div style='width:{art}px;height:{art}px'>{svg}</div></div></body></html>"
    )


def main() -> None:
    """Write every icon PNG next to the SVG."""
    svg = (ICONS / "walker.svg").read_text(encoding="utf-8")
    svg = svg.replace("<svg ", "<svg width='100%' height='100%' ", 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, size, scale, transparent in RENDERS:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(page_for(svg, size, scale, transparent))
            page.screenshot(path=str(ICONS / name), omit_background=transparent)
            page.close()
            print("wrote", ICONS / name)
        browser.close()


if __name__ == "__main__":
    main()
