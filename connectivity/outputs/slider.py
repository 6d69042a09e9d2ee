"""The map's number-of-sites slider: any first ``k`` sites of the ranking, offline.

The ranking is nested (the first ``k`` sites are the plan for ``k`` sites), so the page can
show any prefix without a server: moving the slider shows the first ``k`` sites, the cells they
newly cover, the cells left uncovered, and the coverage figures for ``k``. The figures are
the published ones, worked out here for every ``k`` (hidden ones stay hidden, and once a site's
gain is hidden, so is every later cumulative figure, as in ``selected_sites.csv``); the page
only picks the text of its step and writes it as text, never as markup.
"""

from __future__ import annotations

import json

import folium
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from connectivity.outputs.i18n import Language, format_number, label
from connectivity.outputs.published import Published
from connectivity.outputs.safety import escape_html


def slider_steps(published: Published, language: Language) -> list[str]:
    """Return the figures' text for the first 1, 2, ..., n sites (plain text)."""
    sel = published.selected
    n = len(sel)
    hidden = f"< {published.min_population}"
    people = np.cumsum(sel["new_people_covered"].to_numpy(dtype=float))  # NaN from a hidden one
    pct = sel["cumulative_coverage_pct"].to_numpy(dtype=float)
    return [
        label(
            "slider_step",
            language,
            k=k + 1,
            n=n,
            people=format_number(people[k], language, hidden=hidden),
            pct=format_number(pct[k], language, 2, hidden=hidden),
        )
        for k in range(n)
    ]


def _json_for_script(value: object) -> str:
    """JSON that cannot end the ``<script>`` element it sits in."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/")


class SitesSlider(MacroElement):
    """A slider of the number of sites, with the figures for that many (bottom right)."""

    _template = Template(
        """
{% macro html(this, kwargs) %}
<div id="{{ this.get_name() }}" style="position:fixed;bottom:40px;right:10px;z-index:9999;
 background:white;padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:12px sans-serif;width:300px">
 <label for="{{ this.get_name() }}_input"><b>{{ this.title }}</b>:
  <span class="sites-slider-k">{{ this.n }}</span></label>
 <input id="{{ this.get_name() }}_input" class="sites-slider" type="range" min="1"
  max="{{ this.n }}" value="{{ this.n }}" step="1" style="width:100%">
 <div class="sites-slider-figures" style="color:#333"></div>
</div>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var box = document.getElementById({{ this.box_id }});
  var input = box.querySelector('input');
  var shown = box.querySelector('.sites-slider-k');
  var figures = box.querySelector('.sites-slider-figures');
  var steps = {{ this.steps }};
  var sites = {{ this.sites }};
  var uncovered = {{ this.uncovered }};
  var newly = {{ this.newly }};
  var markers = sites.getLayers();
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  function rankOf(layer) {
    var m = /site-rank-(\\d+)/.exec(layer.options.className || '');
    return m ? parseInt(m[1], 10) : 0;
  }
  function show(k) {
    markers.forEach(function (m) {
      var on = rankOf(m) <= k;
      if (on && !sites.hasLayer(m)) { sites.addLayer(m); }
      if (!on && sites.hasLayer(m)) { sites.removeLayer(m); }
    });
    uncovered.eachLayer(function (l) {
      var r = l.feature.properties.rank;
      l.setStyle({fillOpacity: (r === 0 || r > k) ? 0.7 : 0});
    });
    if (newly) {
      newly.eachLayer(function (l) {
        var on = l.feature.properties.rank <= k;
        l.setStyle({fillOpacity: on ? 0.6 : 0, opacity: on ? 1 : 0});
      });
    }
    shown.textContent = String(k);
    figures.textContent = steps[k - 1];
    box.setAttribute('data-sites-shown', String(k));
  }
  input.addEventListener('input', function () { show(parseInt(input.value, 10)); });
  show(parseInt(input.value, 10));
})();
{% endmacro %}
"""
    )

    def __init__(
        self,
        sites: folium.FeatureGroup,
        uncovered: folium.GeoJson,
        newly: folium.GeoJson | None,
        steps: list[str],
        language: Language,
    ) -> None:
        super().__init__()
        self._name = "SitesSlider"
        self.sites = sites.get_name()
        self.uncovered = uncovered.get_name()
        self.newly = newly.get_name() if newly is not None else "null"
        self.n = len(steps)
        self.steps = _json_for_script(steps)
        self.title = escape_html(label("slider_title", language))
        self.box_id = _json_for_script(self.get_name())
