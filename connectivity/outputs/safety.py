"""Text from data made safe for the context it lands in: HTML, JavaScript, spreadsheets, figures.

Names of sites, localities and Wi-Fi zones come from public files that anyone can edit, and
scenario titles from whoever writes the scenario. Each output context needs its own escaping:

- **HTML inside folium's JavaScript.** folium puts tooltips and popups into JavaScript
  *template literals* (backquoted strings), where ``${...}`` runs code, a backquote ends the
  string and a backslash starts an escape. :func:`escape_html` escapes HTML and turns those
  three characters into HTML character references, which the browser shows as the characters
  themselves and JavaScript does not interpret.
- **Spreadsheets.** A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is read as a formula by Excel, LibreOffice and Google Sheets. :func:`write_csv`
  prefixes such text cells with an apostrophe, as OWASP recommends (numbers stay numbers);
  control characters inside a name (tabs, line breaks) become spaces, so that every reader
  splits the rows alike.
- **Figures.** matplotlib reads text between two ``$`` as mathematics (a lone ``$`` is an
  error); :func:`plain_text` turns that off while a figure is drawn.
- **XML (KML, QGIS styles).** ElementTree escapes markup, but XML 1.0 forbids most control
  characters outright (a file holding one does not open); :func:`xml_text` makes them spaces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

_JS_TEMPLATE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_html(value: Any) -> str:
    r"""Escape text for HTML that may sit inside a JavaScript template literal.

    Examples
    --------
    >>> escape_html("<b>${alert(1)}</b> `x` C:\\usuarios")
    '&lt;b&gt;&#36;{alert(1)}&lt;/b&gt; &#96;x&#96; C:&#92;usuarios'
    """
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE)


def neutralise_formula(value: Any) -> Any:
    r"""Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Examples
    --------
    >>> neutralise_formula("=1+2"), neutralise_formula("Parque"), neutralise_formula(-3)
    ("'=1+2", 'Parque', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise_formula(_CONTROL.sub(" ", value))
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas nor break rows."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(_safe_cell, na_action="ignore")
    out.columns = [_safe_cell(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends, formula text neutralised."""
    csv_safe(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    r"""Return text that XML 1.0 can hold: forbidden control characters become spaces.

    Examples
    --------
    >>> xml_text("Parque\x00 <Central>\x0b")
    'Parque  <Central> '
    """
    return _NOT_XML.sub(" ", str(value))


@contextmanager
def plain_text() -> Iterator[None]:
    """Draw matplotlib text as written: ``$`` is a dollar sign, not the start of mathematics."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        yield
