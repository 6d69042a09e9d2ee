"""The map and the report in a real browser: Debian's Chromium driven by Playwright.

The machines have no internet, so every request the page makes for a JavaScript or CSS
library is answered from the npm copies in ``tests/browser/node_modules`` (installed by
``make test`` from ``tests/browser/package-lock.json``). Base-map tiles get a blank image.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.servers import chromium_path, require

NODE_MODULES = Path(__file__).parent / "browser" / "node_modules"
# blank 1x1 PNG for base-map tiles
_BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
# CDN paths that are not npm packages, mapped to files of the npm copies
_CDN_FILES = {
    ("code.jquery.com", r"/jquery-(?P<v>[\d.]+)\.min\.js"): ("jquery", "dist/jquery.min.js"),
    ("cdnjs.cloudflare.com", r"/ajax/libs/d3/(?P<v>[\d.]+)/d3\.min\.js"): ("d3", "d3.min.js"),
    (
        "cdnjs.cloudflare.com",
        r"/ajax/libs/Leaflet\.awesome-markers/(?P<v>[\d.]+)/leaflet\.awesome-markers\.(?P<ext>js|css)",
    ): ("drmonty-leaflet-awesome-markers", "{ext}/leaflet.awesome-markers.{ext}"),
}
# Stylesheets folium always links that exist on no package registry. The map uses neither
# (its markers are circle markers: no glyphicons, no rotated icons), so they get an empty sheet.
_UNUSED_CSS = (
    "netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
    "cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate",
)
# JavaScript that finds folium's map object (a global named map_<id>) as `m`
_FIND_MAP = (
    "const m = Object.keys(window).filter(k => k.startsWith('map_'))"
    ".map(k => window[k]).find(v => v instanceof L.Map);"
)
_TYPES = {".js": "application/javascript", ".css": "text/css", ".woff2": "font/woff2"}


def _local_file(url: str) -> Path | None:
    """The npm file that stands in for a CDN URL; fails if the npm copy has another version."""
    parts = urlparse(url)
    package = version = rest = None
    if parts.netloc == "cdn.jsdelivr.net" and parts.path.startswith("/npm/"):
        m = re.match(r"/npm/(?P<p>(@[^/]+/)?[^/@]+)@(?P<v>[^/]+)/(?P<r>.+)", parts.path)
        if m:
            package, version, rest = m["p"], m["v"], m["r"]
    for (host, pattern), (pkg, template) in _CDN_FILES.items():
        m = re.fullmatch(pattern, parts.path)
        if parts.netloc == host and m:
            package, version = pkg, m["v"]
            rest = template.format(**m.groupdict())
    if package is None or rest is None:
        return None
    manifest = NODE_MODULES / package / "package.json"
    assert manifest.exists(), f"{url}: add {package}@{version} to tests/browser/package.json"
    have = json.loads(manifest.read_text())["version"]
    assert have == version, f"{url}: tests/browser has {package}@{have}, the page wants {version}"
    return NODE_MODULES / package / rest


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    require(executable is not None, "Chromium is not installed (Debian package chromium)")
    require(NODE_MODULES.is_dir(), "tests/browser/node_modules missing (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class PageLog:
    """Console errors, page errors and failed requests seen while a page is open."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unserved: list[str] = []


def _open(browser: Any, path: Path) -> tuple[Any, PageLog]:
    log = PageLog()
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def serve(route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
            return
        if any(u in url for u in _UNUSED_CSS):
            route.fulfill(status=200, content_type="text/css", body="")
            return
        local = _local_file(url)
        if local is not None and local.is_file():
            route.fulfill(
                status=200,
                content_type=_TYPES.get(local.suffix, "application/octet-stream"),
                body=local.read_bytes(),
            )
        elif "tile" in urlparse(url).netloc or url.endswith(".png"):
            route.fulfill(status=200, content_type="image/png", body=_BLANK_PNG)
        else:
            log.unserved.append(url)
            route.abort()

    page.route("**/*", serve)
    page.on("console", lambda m: m.type == "error" and log.errors.append(m.text))
    page.on("pageerror", lambda e: log.errors.append(str(e)))
    page.on("requestfailed", lambda r: log.errors.append(f"failed: {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, log


def test_map_loads_toggles_layers_and_opens_a_popup(
    browser: Any, subset_outputs: Path, tmp_path: Path
) -> None:
    page, log = _open(browser, subset_outputs / "map.html")
    page.wait_for_selector(".leaflet-control-layers")
    assert not log.unserved, f"requests the test cannot serve offline: {log.unserved}"
    assert not log.errors, log.errors
    # the title, legend and search box are on the page, in Spanish
    text = page.inner_text("body")
    assert "bogota_subset" in text or "Extracto de prueba" in text
    assert page.locator(".leaflet-control-search input").count() == 1
    # toggling an overlay in the layer control adds or removes its shapes
    overlays = page.locator(".leaflet-control-layers-overlays label")
    names = [overlays.nth(i).inner_text().strip() for i in range(overlays.count())]
    assert any("Zonas Wi-Fi" in n or "Wi-Fi" in n for n in names), names
    # the map draws on a canvas (prefer_canvas): count the layers Leaflet has on the map
    count_layers = f"() => {{ {_FIND_MAP} return Object.keys(m._layers).length; }}"
    before = page.evaluate(count_layers)
    toggled = overlays.filter(has_text="Localidades").locator("input")
    toggled.click()
    after = page.evaluate(count_layers)
    assert after < before, (before, after)
    toggled.click()
    assert page.evaluate(count_layers) == before
    # a real click where the first-ranked site is drawn opens its popup (the sites stay on
    # top of the localities that were just switched back on)
    x, y = page.evaluate(
        f"""() => {{ {_FIND_MAP}
        const site = Object.values(m._layers).find(
            l => (l.options.className || '').includes('site-rank-1'));
        m.setView(site.getLatLng(), 16, {{animate: false}});
        const p = m.latLngToContainerPoint(site.getLatLng());
        const box = m.getContainer().getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }}"""
    )
    page.mouse.click(x, y)
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert popup is not None
    content = popup.inner_text()
    assert content.startswith("Prioridad 1"), content
    assert "Personas" in content or "personas" in content, content
    page.wait_for_timeout(400)  # let the popup finish fading in
    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    _keep(shot, "map")
    assert not log.errors, log.errors
    page.close()


def test_report_loads_with_its_figures(browser: Any, subset_outputs: Path, tmp_path: Path) -> None:
    page, log = _open(browser, subset_outputs / "report.html")
    assert not log.unserved, log.unserved  # the report is self-contained
    assert not log.errors, log.errors
    images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert images and all(w > 100 for w in images), images
    assert page.locator("table").count() >= 1
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot, "report")
    page.close()


def _keep(shot: Path, name: str) -> None:
    """Copy a screenshot to $CONNECTIVITY_SCREENSHOTS (CI keeps them) when it is set."""
    import os

    folder = os.environ.get("CONNECTIVITY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / f"{name}.png")


def test_hostile_names_render_as_text_and_run_nothing(
    browser: Any, subset_results: Any, tmp_path: Path
) -> None:
    """Names carrying script, backquotes, ``${``, backslashes and markup: text, not code."""
    from connectivity.compare import write_comparison
    from connectivity.outputs import write_outputs
    from tests.test_output_safety import hostile_results

    results = hostile_results(subset_results)
    a, b = tmp_path / "a", tmp_path / "b"
    write_outputs(results, a)
    write_outputs(results, b)
    write_comparison(a, b, tmp_path / "cmp")
    for page_path, markers in (
        (a / "map.html", len(results.selected) + len(results.existing_wifi)),
        (tmp_path / "cmp" / "differences.html", len(results.selected)),
    ):
        page, log = _open(browser, page_path)
        dialogs: list[str] = []

        def on_dialog(dialog: Any, seen: list[str] = dialogs) -> None:
            seen.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.wait_for_selector(".leaflet-control-layers")
        page.wait_for_timeout(300)
        assert not log.errors, (page_path.name, log.errors)
        assert page.evaluate("() => window.__pwned") is None, page_path.name
        assert not dialogs, dialogs
        # the map drew: Leaflet holds every marker, and each tooltip shows its name as text
        tooltips = page.evaluate(
            f"""() => {{ {_FIND_MAP}
            return Object.values(m._layers).filter(l => l.getTooltip && l.getTooltip())
                .map(l => {{ const d = document.createElement('div');
                             d.innerHTML = l.getTooltip().getContent(); return d.textContent; }});
            }}"""
        )
        assert len(tooltips) >= markers, (page_path.name, len(tooltips), markers)
        text = "\n".join(tooltips)
        for name in ("${alert(document.domain)}", "C:\\usuarios\\", "`); window.__pwned = 1; (`"):
            assert name in text, (page_path.name, name)
        assert '<img src=x onerror="window.__pwned = 3">' in text
        page.close()


def test_the_sites_slider_shows_any_first_sites_and_their_figures(
    browser: Any, subset_outputs: Path, subset_results: Any
) -> None:
    from connectivity.outputs.published import published
    from connectivity.outputs.slider import slider_steps

    page, log = _open(browser, subset_outputs / "map.html")
    page.wait_for_selector("input.sites-slider")
    n = len(subset_results.selected)
    steps = slider_steps(published(subset_results), "es")
    count_sites = f"""() => {{ {_FIND_MAP}
        return Object.values(m._layers).filter(
            l => (l.options.className || '').includes('site-marker')).length; }}"""
    newly_shown = f"""() => {{ {_FIND_MAP}
        return Object.values(m._layers).filter(l => l.feature && l.feature.properties
            && l.feature.properties.rank > 0 && l.feature.properties.cls === undefined
            && l.options.fillOpacity > 0).map(l => l.feature.properties.rank); }}"""
    assert page.evaluate(count_sites) == n
    figures = page.locator(".sites-slider-figures")
    assert figures.inner_text() == steps[-1]
    for k in (1, 3, n):
        page.locator("input.sites-slider").fill(str(k))  # fires the input event
        assert page.evaluate(count_sites) == k
        assert figures.inner_text() == steps[k - 1]
        assert f"primeros {k} de {n}" in figures.inner_text()
        ranks = page.evaluate(newly_shown)
        assert ranks and max(ranks) <= k, (k, ranks)
    assert not log.errors, log.errors
    page.close()
