"""Every label shown to people, in Spanish and English (one table, both languages)."""

from __future__ import annotations

from typing import Literal

Language = Literal["es", "en"]

LABELS: dict[str, dict[str, str]] = {
    "localities": {"es": "Localidades", "en": "Localities"},
    "locality": {"es": "Localidad", "en": "Locality"},
    "existing_wifi": {"es": "Zonas Wi-Fi existentes", "en": "Existing Wi-Fi zones"},
    "selected_sites": {
        "es": "Sitios propuestos (por prioridad)",
        "en": "Proposed sites (by priority)",
    },
    "uncovered_before": {
        "es": "Demanda sin cobertura – antes del plan",
        "en": "Uncovered demand – before the plan",
    },
    "uncovered_after": {
        "es": "Demanda sin cobertura – después del plan",
        "en": "Uncovered demand – after the plan",
    },
    "newly_covered": {
        "es": "Cubierta por los sitios propuestos",
        "en": "Covered by the proposed sites",
    },
    "rank": {"es": "Prioridad", "en": "Rank"},
    "name": {"es": "Nombre", "en": "Name"},
    "type": {"es": "Tipo", "en": "Type"},
    "new_people": {"es": "Personas nuevas con cobertura", "en": "People newly covered"},
    "gain": {"es": "Demanda ponderada nueva", "en": "New priority-weighted demand"},
    "population": {"es": "Población", "en": "Population"},
    "pct_before": {"es": "% población cubierta antes", "en": "% of people covered before"},
    "pct_after": {"es": "% población cubierta después", "en": "% of people covered after"},
    "pct_after_legend": {
        "es": "% de la población con Wi-Fi público (después)",
        "en": "% of people with public Wi-Fi (after)",
    },
    "density_legend": {
        "es": "Personas sin internet en el hogar por celda de {size} m",
        "en": "People without home internet per {size} m cell",
    },
    "title": {"es": "Plan de Wi-Fi público", "en": "Public Wi-Fi plan"},
    "generated": {"es": "generado el", "en": "generated on"},
    "covered_radius": {
        "es": "Cobertura: radio de {radius} m alrededor de cada sitio",
        "en": "Coverage: {radius} m radius around each site",
    },
    "overview": {"es": "Territorio completo", "en": "Whole territory"},
    "urban_zoom": {"es": "Zona urbana", "en": "Urban area"},
    "top_sites": {"es": "Sitios 1–{n}", "en": "Sites 1–{n}"},
    "km": {"es": "km", "en": "km"},
    "north": {"es": "N", "en": "N"},
    "no_data": {"es": "sin datos", "en": "no data"},
}


def label(key: str, language: Language, **values: object) -> str:
    """Return the label ``key`` in ``language``, with ``{placeholders}`` filled in.

    Examples
    --------
    >>> label("localities", "es")
    'Localidades'
    >>> label("covered_radius", "en", radius=80)
    'Coverage: 80 m radius around each site'
    """
    text = LABELS[key][language]
    return text.format(**values) if values else text
