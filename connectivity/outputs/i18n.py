"""Every label shown to people, in Spanish and English (one table, both languages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectivity.scenario import Language

if TYPE_CHECKING:
    from connectivity.results import Results

__all__ = ["LABELS", "Language", "coverage_notes", "format_number", "label", "plan_title"]

LABELS: dict[str, dict[str, str]] = {
    "localities": {"es": "Localidades", "en": "Localities"},
    "search_locality": {"es": "Buscar localidad…", "en": "Find a locality…"},
    "locality": {"es": "Localidad", "en": "Locality"},
    "gaps": {"es": "Brechas: zonas sin cobertura", "en": "Gaps: areas left uncovered"},
    "candidates": {"es": "Sitios candidatos", "en": "Candidate sites"},
    "slider_title": {"es": "Sitios del plan", "en": "Sites in the plan"},
    "slider_step": {
        "es": "Con los primeros {k} de {n} sitios: {people} personas nuevas con cobertura; "
        "{pct} % de la demanda ponderada cubierta.",
        "en": "With the first {k} of {n} sites: {people} people newly covered; {pct} % of "
        "the weighted demand covered.",
    },
    "legend_class": {
        "es": "Clase (personas sin internet en el hogar)",
        "en": "Class (people without home internet)",
    },
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
    "capex": {"es": "Inversión (capex)", "en": "Capital cost (capex)"},
    "opex": {"es": "Operación por año", "en": "Operating cost per year"},
    "tco": {"es": "Costo total de propiedad", "en": "Total cost of ownership"},
    "npc": {"es": "Costo presente neto", "en": "Net present cost"},
    "npc_per_person": {
        "es": "Costo presente neto por persona nueva con cobertura",
        "en": "Net present cost per person newly covered",
    },
    "backhaul": {"es": "Conexión a internet", "en": "Backhaul"},
    "served_of_capacity": {
        "es": "Usuarios simultáneos atendidos / capacidad",
        "en": "Simultaneous users served / capacity",
    },
    "unserved_in_reach": {
        "es": "Personas al alcance sin atender por capacidad",
        "en": "People in reach left unserved for lack of capacity",
    },
    "money_title": {"es": "El plan en dinero", "en": "The plan in money"},
    "money_text": {
        "es": "Cifras en {currency} (precios de {year}); horizonte de {years} años, tasa de "
        "descuento {rate} %. El presupuesto limita: {basis}. Fuentes: {sources}. SUPUESTOS QUE "
        "EL PLANIFICADOR DEBE REEMPLAZAR: {assumptions}.",
        "en": "Figures in {currency} ({year} prices); a {years}-year horizon, a discount rate "
        "of {rate} %. The budget limits: {basis}. Sources: {sources}. ASSUMPTIONS THE PLANNER "
        "MUST REPLACE: {assumptions}.",
    },
    "capacity_text": {
        "es": "Capacidad: cada sitio atiende como mucho su capacidad en usuarios simultáneos; "
        "la demanda es la población sin internet en el hogar × {take_up} % (uso) × "
        "{concurrency} % (simultaneidad). Los sitios elegidos atienden {served} de sus {capacity} "
        "usuarios; {unserved} personas quedan al alcance sin ser atendidas.",
        "en": "Capacity: each site serves at most its capacity in simultaneous users; demand "
        "is the people without home internet × {take_up} % (take-up) × {concurrency} % "
        "(concurrency). The chosen sites serve {served} of their {capacity} users; {unserved} "
        "people are left in reach but unserved.",
    },
    "chart_money": {
        "es": "Inversión y uso de la capacidad por localidad",
        "en": "Capital cost and capacity use by locality",
    },
    "study_title": {"es": "Estudio: muchos planes a la vez", "en": "Study: many plans at once"},
    "study_intro": {
        "es": "{n} planes resueltos sobre el mismo modelo de cobertura ({kinds}). Las cifras "
        "están en study.csv (una fila por plan) y study.json (sitios de cada plan y cobertura "
        "por localidad).",
        "en": "{n} plans solved over the same coverage model ({kinds}). The figures are in "
        "study.csv (one row per plan) and study.json (each plan's sites and coverage by "
        "locality).",
    },
    "study_robust_note": {
        "es": "Robustez: {n} sorteos con semilla; la demanda de cada localidad varía ±{share} % "
        "y el radio de servicio en {radius}; {every} sitios se eligen en todos los sorteos.",
        "en": "Robustness: {n} seeded draws; each locality's demand varies by ±{share} % and "
        "the service radius within {radius}; {every} sites are chosen in every draw.",
    },
    "study_kept_note": {
        "es": "Donde un presupuesto mayor cubría menos que uno menor (una heurística o un "
        "límite de tiempo), conserva el plan del menor, que puede pagar; study.json lo anota.",
        "en": "Where a larger budget covered less than a smaller one (a heuristic, or a time "
        "limit), it keeps the smaller one's plan, which it can afford; study.json notes it.",
    },
    "study_kind_budget_curve": {"es": "curva de presupuesto", "en": "budget curve"},
    "study_kind_phases": {"es": "despliegue por años", "en": "phased rollout"},
    "study_kind_equity_frontier": {"es": "precio de la equidad", "en": "price of equity"},
    "study_kind_robustness": {"es": "robustez", "en": "robustness"},
    "study_kind_territories": {"es": "territorios", "en": "territories"},
    "study_col_kind": {"es": "Tipo", "en": "Kind"},
    "study_col_plan": {"es": "Plan", "en": "Plan"},
    "study_col_sites": {"es": "Sitios", "en": "Sites"},
    "study_col_cost": {"es": "Costo", "en": "Cost"},
    "study_col_pct_people_covered": {"es": "% personas cubiertas", "en": "% people covered"},
    "study_col_pct_weight_covered": {"es": "% demanda ponderada", "en": "% weighted demand"},
    "study_col_gap_pct": {"es": "Brecha a la cota %", "en": "Gap to bound %"},
    "study_col_marginal_cost_per_person": {
        "es": "Costo marginal por persona",
        "en": "Marginal cost per person",
    },
    "study_col_lowest_locality_pct_weight": {
        "es": "% en la localidad más baja",
        "en": "% in the lowest locality",
    },
    "study_col_gini_people": {"es": "Gini", "en": "Gini"},
    "study_col_status": {"es": "Estado", "en": "Status"},
    "study_sites_axis": {"es": "Número de sitios", "en": "Number of sites"},
    "study_cost_axis": {"es": "Costo del plan", "en": "Cost of the plan"},
    "study_pct_people": {"es": "% de personas cubiertas", "en": "% of people covered"},
    "study_pct_weight": {
        "es": "% de la demanda ponderada cubierta",
        "en": "% of the weighted demand covered",
    },
    "study_bound": {
        "es": "Cota superior (método exacto)",
        "en": "Upper bound (exact method)",
    },
    "study_budget_curve": {
        "es": "Cobertura según el presupuesto",
        "en": "Coverage against the budget",
    },
    "study_equity_frontier": {
        "es": "Precio de la equidad: cobertura total frente a la localidad más baja",
        "en": "Price of equity: total coverage against the lowest locality",
    },
    "study_lowest_locality": {
        "es": "% de la demanda ponderada cubierta en la localidad más baja",
        "en": "% of the weighted demand covered in the lowest locality",
    },
    "study_infeasible": {"es": "Sin plan posible: {plans}", "en": "No possible plan: {plans}"},
    "study_phases": {"es": "Despliegue por años", "en": "Rollout by year"},
    "study_year_legend": {
        "es": "{year}: {n} sitios nuevos, {pct} % cubierto",
        "en": "{year}: {n} new sites, {pct} % covered",
    },
    "study_robustness": {"es": "Sitios robustos", "en": "Robust sites"},
    "study_frequency": {
        "es": "Elegido en ... de {n} sorteos",
        "en": "Chosen in ... of {n} draws",
    },
    "study_frequency_class": {
        "es": "más de {lo} % hasta {hi} % ({n} sitios)",
        "en": "over {lo} % up to {hi} % ({n} sites)",
    },
    "study_frequency_all": {"es": "todos ({n} sitios)", "en": "every one ({n} sites)"},
    "density_legend": {
        "es": "Personas sin internet en el hogar por celda de {size} m",
        "en": "People without home internet per {size} m cell",
    },
    "title": {"es": "Plan de Wi-Fi público", "en": "Public Wi-Fi plan"},
    "title_towers": {"es": "Plan de torres móviles", "en": "Mobile tower plan"},
    "title_mixed": {"es": "Plan de conectividad", "en": "Connectivity plan"},
    "generated": {"es": "generado el", "en": "generated on"},
    "covered_radius": {
        "es": "Cobertura: radio de {radius} m alrededor de cada sitio",
        "en": "Coverage: {radius} m radius around each site",
    },
    "towers_note": {
        "es": "Torres nuevas: señal modelada con {model} a {freq} MHz, PIRE {power} dBm, antena "
        "de {height} m; cobertura básica desde {basic} dBm, buena desde {good} dBm",
        "en": "New towers: signal modelled with {model} at {freq} MHz, EIRP {power} dBm, "
        "{height} m antenna; basic coverage from {basic} dBm, good from {good} dBm",
    },
    "mobile_unknown": {
        "es": "La cobertura móvil existente es desconocida en los datos entregados (no hay "
        "transmisores ni mediciones) y se cuenta como nula",
        "en": "Existing mobile coverage is unknown in the data supplied (no transmitters and "
        "no measurements) and is counted as none",
    },
    "mobile_sources": {
        "es": "Cobertura móvil existente según: {sources}; lo medido reemplaza al modelo",
        "en": "Existing mobile coverage from: {sources}; measured values override the model",
    },
    "terrain_none": {
        "es": "Sin modelo de elevación: se supone terreno plano",
        "en": "No elevation model: flat terrain assumed",
    },
    "terrain_dem": {
        "es": "Con modelo de elevación: los trayectos sin línea de vista suman pérdida por "
        "difracción (filo de cuchillo)",
        "en": "With an elevation model: paths without line of sight add knife-edge "
        "diffraction loss",
    },
    "overview": {"es": "Territorio completo", "en": "Whole territory"},
    "urban_zoom": {"es": "Zona urbana", "en": "Urban area"},
    "top_sites": {"es": "Sitios 1–{n}", "en": "Sites 1–{n}"},
    "km": {"es": "km", "en": "km"},
    "north": {"es": "N", "en": "N"},
    "no_data": {"es": "sin datos", "en": "no data"},
    # the report
    "report_title": {"es": "Informe del plan", "en": "Plan report"},
    "key_figures": {"es": "Cifras clave", "en": "Key figures"},
    "people": {"es": "Personas (censo 2018)", "en": "People (2018 census)"},
    "without_internet": {
        "es": "Personas sin internet en el hogar",
        "en": "People without home internet",
    },
    "covered_before": {
        "es": "Con cobertura Wi-Fi pública antes",
        "en": "With public Wi-Fi coverage before",
    },
    "covered_after": {
        "es": "Con cobertura Wi-Fi pública después",
        "en": "With public Wi-Fi coverage after",
    },
    "sites": {"es": "Sitios propuestos", "en": "Proposed sites"},
    "cost": {"es": "Costo (unidades del escenario)", "en": "Cost (scenario units)"},
    "by_locality": {"es": "Por localidad", "en": "By locality"},
    "chart_coverage": {
        "es": "Cobertura antes y después por localidad (% de la población)",
        "en": "Coverage before and after by locality (% of people)",
    },
    "chart_lorenz": {
        "es": "Distribución de la cobertura entre localidades (curva de Lorenz)",
        "en": "Distribution of coverage across localities (Lorenz curve)",
    },
    "gini": {"es": "Gini", "en": "Gini"},
    "before": {"es": "Antes", "en": "Before"},
    "after": {"es": "Después", "en": "After"},
    "equality": {"es": "Igualdad", "en": "Equality"},
    "share_localities": {
        "es": "Proporción acumulada de personas",
        "en": "Cumulative share of people",
    },
    "share_covered": {
        "es": "Proporción acumulada de personas cubiertas",
        "en": "Cumulative share of people covered",
    },
    "map": {"es": "Mapa general", "en": "Overview map"},
    "method": {"es": "Método", "en": "Method"},
    "method_text": {
        "es": "La población del censo se reparte en celdas de {size} m según el área. La demanda "
        "de cada celda son las personas sin internet en el hogar multiplicadas por un factor "
        "de prioridad ({groups}). Cada celda se divide en puntos de {spacing} m, cada uno con "
        "las personas de su parte de la celda; una persona está cubierta si su punto queda a "
        "{radius} m o menos de un sitio Wi-Fi, y la cobertura de una celda es la proporción de "
        "sus personas cubiertas. Los sitios se eligen con el método «{method}» ({model}). "
        "Ninguna cifra publicada cuenta entre 1 y {privacy} personas, ni por diferencia entre "
        "cifras publicadas.",
        "en": "Census population is spread onto {size} m cells by area. A cell's demand is its "
        "people without home internet times a priority factor ({groups}). Each cell is split "
        "into points {spacing} m apart, each holding the people of its part of the cell; a "
        "person is covered when their point lies within {radius} m of a Wi-Fi site, and a "
        "cell's coverage is the share of its people covered. Sites are chosen with the "
        "'{method}' method ({model}). No published figure counts between 1 and {privacy} "
        "people, not even by subtracting published figures.",
    },
    "discretisation_note": {
        "es": "Error de discretización medido: con puntos de {check} m en vez de {spacing} m, "
        "las personas que el plan cubre por primera vez cambian en {change} %",
        "en": "Discretisation error measured: on points {check} m apart instead of {spacing} m, "
        "the people the plan newly covers change by {change} %",
    },
    "sources": {"es": "Fuentes de datos", "en": "Data sources"},
    "sources_text": {
        "es": "Archivos de entrada: {files}. Su huella SHA-256 está en run.json; editor, licencia "
        "y advertencias de cada uno, en el SOURCES.md junto a los datos.",
        "en": "Input files: {files}. Their SHA-256 is in run.json; each one's publisher, licence "
        "and caveats are in the SOURCES.md beside the data.",
    },
}


def format_number(value: float, language: Language, digits: int = 0, *, hidden: str = "–") -> str:
    """Format a number as people read it in the language (``hidden`` for NaN: suppressed).

    Examples
    --------
    >>> format_number(1234567.891, "es", 1), format_number(1234567.891, "en", 1)
    ('1.234.567,9', '1,234,567.9')
    """
    if value != value:  # NaN: suppressed for privacy, or no data
        return hidden
    text = f"{value:,.{digits}f}"
    if language == "es":  # 1.234.567,8
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


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


def coverage_notes(results: Results, language: Language) -> list[str]:
    """Plain sentences on how coverage was judged, for legends and the report (unescaped)."""
    s = results.scenario
    notes = []
    if s.candidates.layers:
        notes.append(label("covered_radius", language, radius=f"{s.candidates.radius_m:g}"))
    mob, cov = s.mobile, results.mobile
    if mob is None or cov is None:
        return notes
    r = mob.radio
    if mob.new_towers is not None:
        notes.append(
            label(
                "towers_note",
                language,
                model=r.model.replace("_", "-"),
                freq=f"{r.frequency_mhz:g}",
                power=f"{r.power_dbm:g}",
                height=f"{r.height_m:g}",
                basic=f"{r.basic_dbm:g}",
                good=f"{r.good_dbm:g}",
            )
        )
    if cov.known:
        names = ", ".join(str(v) for v in cov.sources["source"])
        notes.append(label("mobile_sources", language, sources=names))
    else:
        notes.append(label("mobile_unknown", language))
    notes.append(label("terrain_dem" if cov.terrain else "terrain_none", language))
    return notes


def plan_title(results: Results, language: Language) -> str:
    """Return the kind of plan: public Wi-Fi, mobile towers, or both (unescaped)."""
    s = results.scenario
    towers = s.mobile is not None and s.mobile.new_towers is not None
    if towers and not s.candidates.layers:
        return label("title_towers", language)
    return label("title_mixed" if towers else "title", language)
