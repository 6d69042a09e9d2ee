"""Scenario files: load, check and resolve.

A scenario is a YAML file that names the territory, the demographic layers, the demand
definition, existing coverage, candidate sites, the method and the outputs. Every path in it is
resolved relative to the scenario file. This module does no I/O: :func:`parse_scenario` builds
a :class:`Scenario` from parsed YAML and lists *every* problem in its keys and values (unknown
keys with the closest valid key, values out of range);
:func:`connectivity.loading.load_scenario` reads the file, adds the problems of its files and
columns, and raises one :class:`~connectivity.errors.ScenarioError` that lists them all.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from connectivity._builder import INVALID, Builder
from connectivity._yaml import YamlLimitError, load_yaml
from connectivity.costing.spec import BackhaulSpec, CapacitySpec, MoneySpec, costing_problems
from connectivity.errors import ScenarioError
from connectivity.layerspec import LayerSpec
from connectivity.mobile_spec import (
    CalibrationSpec,
    MeasuredSpec,
    MobileSpec,
    NewTowersSpec,
    RadioSpec,
    TransmitterLayerSpec,
    mobile_problems,
)
from connectivity.optimise import rules
from connectivity.study.spec import StudySpec, study_problems

__all__ = [
    "CalibrationSpec",
    "LayerSpec",
    "MeasuredSpec",
    "MobileSpec",
    "NewTowersSpec",
    "RadioSpec",
    "Scenario",
    "TransmitterLayerSpec",
]

Language = Literal["es", "en"]
GroupKind = Literal["count", "share"]


@dataclass(kw_only=True)
class TerritorySpec:
    """The territory: its administrative areas and which parts are rural.

    ``bbox`` (``[min_lon, min_lat, max_lon, max_lat]``) clips the areas to a study box, for
    example the extent of a local street network.
    """

    name: str
    boundaries: LayerSpec
    id_column: str
    name_column: str
    include: list[str] = field(default_factory=list)
    rural_ids: list[str] = field(default_factory=list)
    rural_layer: LayerSpec | None = None
    metric_crs: str = "EPSG:9377"
    bbox: list[float] = field(default_factory=list)


@dataclass(kw_only=True)
class JoinSpec:
    """A table joined to the demographic layer on a key column."""

    table: LayerSpec
    key: str
    table_key: str | None = None


@dataclass(kw_only=True)
class GroupSpec:
    """A priority group: its columns and its weight in the priority multiplier.

    ``kind: count`` sums persons columns (for example women, or several age groups);
    ``kind: share`` sums 0–1 share columns (for example the share of households in strata 1–2).
    """

    columns: list[str]
    kind: GroupKind = "count"
    multiplier: float = 0.0


@dataclass(kw_only=True)
class DemandSpec:
    """How demand is built: the demographic layer, its join and the priority weights.

    Figures are published on cells of ``cell_size_m``; coverage is computed on the finer
    analysis grid of ``analysis_cell_size_m`` (a divisor of ``cell_size_m``), by default the
    coarsest divisor no larger than a quarter of the shortest service radius (see
    :func:`connectivity.demand.analysis_subdivisions`).
    """

    layer: LayerSpec
    id_column: str
    population_column: str
    join: JoinSpec | None = None
    internet_share_column: str | None = None
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    rural_multiplier: float = 0.0
    cell_size_m: float = 100.0
    analysis_cell_size_m: float | None = None
    snap_distance_m: float = 500.0


@dataclass(kw_only=True)
class ExistingCoverageSpec:
    """Existing public Wi-Fi: a point layer, the radius each zone serves and its capacity.

    ``capacity_users`` (simultaneous users per zone) is needed with a ``capacity`` section.
    """

    wifi: LayerSpec | None = None
    name_column: str | None = None
    radius_m: float = 80.0
    capacity_users: float | None = None


@dataclass(kw_only=True)
class CandidateLayerSpec(LayerSpec):
    """One layer of candidate sites, all of one type with one cost per site.

    With ``osm_tags`` (for example ``{amenity: [library, school], leisure: park}``) the path is
    an OpenStreetMap XML file and the sites are the matching features' centroids.

    ``cost`` is in relative units. With a ``money`` section each site has instead a capital
    cost ``capex`` and a yearly operating cost ``opex_per_year`` in the scenario's currency
    (one value for the layer, or per site from ``capex_column`` / ``opex_column``); with a
    ``capacity`` section a capacity in simultaneous users (``capacity_users`` or
    ``capacity_column``).
    """

    type: str
    name_column: str | None = None
    cost: float = 1.0
    osm_tags: dict[str, Any] = field(default_factory=dict)
    capex: float | None = None
    opex_per_year: float | None = None
    capacity_users: float | None = None
    capex_column: str | None = None
    opex_column: str | None = None
    capacity_column: str | None = None

    def money_values(self) -> dict[str, float | str | None]:
        """Return the layer's money and capacity values (for the checks)."""
        return {
            "capex": self.capex,
            "opex_per_year": self.opex_per_year,
            "capacity_users": self.capacity_users,
            "capex_column": self.capex_column,
            "opex_column": self.opex_column,
            "capacity_column": self.capacity_column,
        }


@dataclass(kw_only=True)
class CandidatesSpec:
    """Candidate sites for new public Wi-Fi and how far a site reaches.

    ``reach: radius`` covers cells within ``radius_m`` in a straight line; ``reach: walking``
    covers cells within ``walk_cutoff_m`` (default ``radius_m``) along the streets of the
    OpenStreetMap file ``network``, and the outputs compare both.
    """

    layers: list[CandidateLayerSpec]
    radius_m: float = 80.0
    merge_distance_m: float = 5.0
    decay: Literal["binary", "linear"] = "binary"
    reach: Literal["radius", "walking"] = "radius"
    network: Path | None = None
    walk_cutoff_m: float | None = None


@dataclass(kw_only=True)
class ConstraintsSpec:
    """Constraints on the plan: fixed and banned sites, and equity floors and caps.

    ``min_sites_per_area`` / ``max_sites_per_area`` / ``min_share_per_area`` apply to every
    area (locality) of the territory; ``rural_min_sites`` / ``rural_min_share`` to the rural
    land as a whole. Shares are of the group's priority-weighted demand (0–1).
    """

    mandatory_sites: list[str] = field(default_factory=list)
    excluded_sites: list[str] = field(default_factory=list)
    min_sites_per_area: int = 0
    max_sites_per_area: int | None = None
    min_share_per_area: float = 0.0
    rural_min_sites: int = 0
    rural_min_share: float = 0.0

    @property
    def any_floor(self) -> bool:
        """Whether an equity floor or cap is set (worth comparing with the plan without)."""
        return bool(
            self.min_sites_per_area
            or self.max_sites_per_area is not None
            or self.min_share_per_area
            or self.rural_min_sites
            or self.rural_min_share
        )


@dataclass(kw_only=True)
class MethodSpec:
    """How sites are chosen.

    ``model`` is ``maximal_covering`` (``sites``), ``budgeted`` (``budget``, optional
    ``sites``) or ``set_covering`` (``target_coverage``); left out, it follows from what is
    given. ``algorithm`` is ``greedy`` or ``exact`` (HiGHS, stopped at ``time_limit_s`` or
    ``mip_gap``).
    """

    model: Literal["maximal_covering", "budgeted", "set_covering"] | None = None
    algorithm: Literal["greedy", "exact"] = "greedy"
    sites: int | None = None
    budget: float | None = None
    target_coverage: float | None = None
    time_limit_s: float = 60.0
    mip_gap: float = 1e-4
    constraints: ConstraintsSpec = field(default_factory=ConstraintsSpec)
    compare_unconstrained: bool = True

    @property
    def resolved_model(self) -> str:
        """The model to solve, following from what is given when ``model`` is left out."""
        return self.model or resolve_model(budget=self.budget, target=self.target_coverage)


def resolve_model(*, budget: float | None, target: float | None) -> str:
    """Return the model that follows from what is given: a target, a budget, or sites.

    Examples
    --------
    >>> resolve_model(budget=None, target=0.5), resolve_model(budget=80.0, target=None)
    ('set_covering', 'budgeted')
    """
    if target is not None:
        return "set_covering"
    if budget is not None:
        return "budgeted"
    return "maximal_covering"


@dataclass(kw_only=True)
class OutputSpec:
    """Where outputs go (``<folder>/<scenario name>/``), their language, a privacy threshold.

    No published figure describes fewer than ``min_population`` people (0 turns this off).
    ``crs`` is the CRS of the GeoPackage and GeoParquet layers (EPSG:4326 on request).
    """

    folder: Path = Path("maps")
    language: Language = "es"
    min_population: int = 10
    crs: str = "EPSG:9377"


@dataclass(kw_only=True)
class Scenario:
    """A fully resolved scenario (every path absolute)."""

    name: str
    title: str
    territory: TerritorySpec
    demand: DemandSpec
    candidates: CandidatesSpec
    method: MethodSpec
    existing_coverage: ExistingCoverageSpec = field(default_factory=ExistingCoverageSpec)
    mobile: MobileSpec | None = None
    output: OutputSpec = field(default_factory=OutputSpec)
    money: MoneySpec | None = None
    capacity: CapacitySpec | None = None
    backhaul: BackhaulSpec | None = None
    study: StudySpec | None = None
    description: str = ""
    source: Path | None = None

    @property
    def output_dir(self) -> Path:
        """Folder this scenario's outputs are written to."""
        return self.output.folder / self.name

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved scenario as plain data (paths as strings) for ``run.json``."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# ---------------------------------------------------------------------------------------------
# Building dataclasses from YAML, collecting every problem
# ---------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_scenario(
    data: Any, *, base_dir: Path, source: Path | None = None
) -> tuple[Scenario | None, list[str]]:
    """Build a :class:`Scenario` from plain data, with every problem in its keys and values.

    Returns the scenario (None if it cannot be built) and the problems. Files are not looked at.
    """
    if not isinstance(data, dict):
        return None, ["the file must hold a mapping of keys"]
    data = dict(data)
    if "name" not in data and source is not None:
        data["name"] = source.stem
    data.setdefault("title", data.get("name", ""))
    builder = Builder(base_dir, strings_as={LayerSpec: "path"})
    scenario = builder.build(Scenario, data, "")
    problems = builder.problems
    if scenario is INVALID or scenario is None:
        return None, problems
    scenario.source = source
    problems += _check_values(scenario)
    return typing.cast(Scenario, scenario), problems


def parse_yaml(text: str, *, source: Path | None = None) -> Any:
    """Parse a scenario's YAML text within the limits of :mod:`connectivity._yaml`.

    Raises
    ------
    ScenarioError
        The text breaks a limit (size, aliases, nesting), repeats a key or is not YAML.
    """
    where = str(source) if source else None
    try:
        return load_yaml(text)
    except YamlLimitError as exc:
        raise ScenarioError([str(exc)], where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"not valid YAML: {_short_text(str(exc))}"], where) from None


def scenario_from_dict(
    data: dict[str, Any], *, base_dir: Path, source: Path | None = None
) -> Scenario:
    """Build and check a :class:`Scenario` from plain data (its files are not looked at).

    Parameters
    ----------
    data
        The parsed scenario (as from YAML).
    base_dir
        Folder that relative paths are resolved against (the scenario file's folder).
    source
        The scenario file, for messages and ``run.json``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    scenario, problems = parse_scenario(data, base_dir=base_dir, source=source)
    if problems or scenario is None:
        raise ScenarioError(problems, str(source) if source else None)
    return scenario


def _short_text(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_values(s: Scenario) -> list[str]:
    problems: list[str] = []
    if s.study is not None:
        problems += study_problems(s.study, reach=s.candidates.reach)
    problems += costing_problems(
        s.money,
        s.capacity,
        s.backhaul,
        layers=[
            (f"candidates.layers[{i}]", layer.money_values())
            for i, layer in enumerate(s.candidates.layers)
        ],
        existing_capacity=s.existing_coverage.capacity_users,
        has_wifi=s.existing_coverage.wifi is not None,
    )
    towers = s.mobile.new_towers if s.mobile is not None else None
    if s.money is not None and towers is not None and towers.capex is None:
        problems.append("mobile.new_towers.capex: money is on for this scenario; give the capex")
    if s.capacity is not None and s.method.resolved_model == "set_covering":
        problems.append(
            "capacity: plans with capacity choose sites or spend a budget, not a target"
        )
    if s.capacity is not None and s.study is not None:
        problems.append("study: studies of capacitated plans are not supported yet; drop one")
    if s.capacity is not None and towers is not None:
        problems.append("capacity: new towers are not capacitated; plan them without capacity")
    if s.capacity is not None and s.method.constraints.any_floor:
        problems.append(
            "capacity: equity floors and caps are not supported with capacity yet; drop one"
        )

    def positive(key: str, value: float | None) -> None:
        if value is not None and not value > 0:
            problems.append(f"{key}: must be greater than 0, got {value}")

    def non_negative(key: str, value: float) -> None:
        if not value >= 0:
            problems.append(f"{key}: must be 0 or more, got {value}")

    if not _NAME_RE.match(s.name):
        problems.append(
            f"name: {s.name!r} must be a simple folder name (letters, digits, '_', '-', '.')"
        )
    positive("demand.cell_size_m", s.demand.cell_size_m)
    positive("demand.analysis_cell_size_m", s.demand.analysis_cell_size_m)
    analysis = s.demand.analysis_cell_size_m
    if analysis is not None and analysis > 0 and s.demand.cell_size_m > 0:
        ratio = s.demand.cell_size_m / analysis
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            problems.append(
                f"demand.analysis_cell_size_m: {analysis:g} m must divide cell_size_m "
                f"({s.demand.cell_size_m:g} m) a whole number of times, e.g. "
                f"{s.demand.cell_size_m / max(1, round(ratio)):g}"
            )
    non_negative("output.min_population", s.output.min_population)
    try:
        from pyproj import CRS

        CRS.from_user_input(s.output.crs)
    except Exception:  # pyproj raises CRSError, but also others for odd input
        problems.append(f"output.crs: {s.output.crs!r} is not a CRS pyproj understands")
    non_negative("demand.snap_distance_m", s.demand.snap_distance_m)
    non_negative("demand.rural_multiplier", s.demand.rural_multiplier)
    for gname, group in s.demand.groups.items():
        non_negative(f"demand.groups.{gname}.multiplier", group.multiplier)
        if not group.columns:
            problems.append(f"demand.groups.{gname}.columns: name at least one column")
    positive("existing_coverage.radius_m", s.existing_coverage.radius_m)
    positive("candidates.radius_m", s.candidates.radius_m)
    non_negative("candidates.merge_distance_m", s.candidates.merge_distance_m)
    if s.candidates.reach == "walking" and s.candidates.network is None:
        problems.append("candidates.network: reach: walking needs an OpenStreetMap file")
    positive("candidates.walk_cutoff_m", s.candidates.walk_cutoff_m)
    bbox = s.territory.bbox
    if bbox and (len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3])):
        problems.append(f"territory.bbox: give [min_lon, min_lat, max_lon, max_lat], got {bbox}")
    if not s.candidates.layers and not (s.mobile and s.mobile.new_towers):
        problems.append("candidates.layers: name at least one candidate layer")
    if s.mobile is not None:
        problems += mobile_problems(s.mobile)
    for i, layer in enumerate(s.candidates.layers):
        non_negative(f"candidates.layers[{i}].cost", layer.cost)
    m = s.method
    model = m.resolved_model
    if model == "maximal_covering" and m.sites is None:
        problems.append(
            "method: give the number of sites ('sites'), a 'budget' or a 'target_coverage'"
        )
    if model == "budgeted" and m.budget is None:
        problems.append("method.budget: the budgeted model needs a budget")
    if model == "set_covering" and m.target_coverage is None:
        problems.append("method.target_coverage: the set covering model needs a target share")
    for key, problem in (
        ("sites", rules.sites_problem(m.sites)),
        ("budget", rules.budget_problem(m.budget)),
        ("target_coverage", rules.target_problem(m.target_coverage)),
        ("time_limit_s", rules.time_limit_problem(m.time_limit_s)),
        ("mip_gap", rules.mip_gap_problem(m.mip_gap)),
    ):
        if problem is not None:
            problems.append(f"method.{key}: {problem}")
    c = m.constraints
    for key in ("min_sites_per_area", "rural_min_sites"):
        non_negative(f"method.constraints.{key}", getattr(c, key))
    if c.max_sites_per_area is not None and c.max_sites_per_area < 0:
        problems.append("method.constraints.max_sites_per_area: must be 0 or more")
    for key in ("min_share_per_area", "rural_min_share"):
        value = getattr(c, key)
        if not 0 <= value <= 1:
            problems.append(f"method.constraints.{key}: must be a share in [0, 1], got {value}")
    return problems
