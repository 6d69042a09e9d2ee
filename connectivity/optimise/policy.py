"""Every threshold, time share and solver option of the optimiser, in one frozen value.

Tests and benchmarks pass a :class:`Policy` to ``solve`` instead of patching constants; the
defaults are the measured choices documented on each field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """How the optimiser spends its time and when it takes which path.

    Attributes
    ----------
    reduce_min_cells
        Models with fewer cells are solved as they are; larger ones over one cell per kind of
        identical cell, when the kinds are at most ``reduce_max_share`` of the cells.
    reduce_max_share
        See ``reduce_min_cells``.
    lp_bound_max_nnz
        Above this many nonzeros after merging cells, no LP relaxation is solved: greedy
        reports a Lagrangian bound, the exact method works from PDLP's approximation. Measured:
        40,000 x 10,000 at 800 m (2.8 million nonzeros) and 200,000 x 10,000 were not solved
        in 24 s, and interior point overran the time limit there.
    ipm_min_nnz
        Above this many nonzeros, linear relaxations are solved by interior point (HiGHS's
        IPX): on the benchmark's 40,000 x 10,000 instance (390,757 nonzeros after merging) the
        dual simplex had not solved the root LP after 120 s, interior point did in 9 s. Below
        it the dive's LP is solved by primal simplex.
    lp_bound_max_s
        The greedy method spends at most this long on the LP bound.
    pdlp_bound_s
        The greedy method spends at most this long on PDLP's bound.
    greedy_tighter_bound_s
        After a kernel search, whose steps bound the plan already, the greedy method tries the
        LP or PDLP bound only with this much of its time limit left: with less, the LP does
        not finish (interior point took 9 s at 40,000 x 10,000 x 300 m) and the time is the
        local search's.
    greedy_bound_min_s
        Under a time limit, each of the greedy method's bound steps gets what is left of it,
        but at least this long: a plan always comes with a bound, if a looser one.
    dive_share, lp_share, local_search_share, pdlp_share
        Shares of the exact method's time limit: the LP dive may take ``dive_share`` of it,
        its LP alone ``lp_share`` (the LP gives the bound), local search ``local_search_share``
        when the dive cannot run, and PDLP ``pdlp_share`` where the LP relaxation is too large.
    restricted_dive_nnz
        The restricted dive works on the sites PDLP values most, up to this many cell-site
        pairs.
    progress_every_s
        How often a long exact search logs its best plan and bound.
    highs_random_seed
        HiGHS's random seed (its default). Its search, and so its time, depends on it: on the
        benchmark's 10,000 x 1,000 instance at 800 m the exact solve took 7.4 to 10.2 s over
        seeds 0 to 4 (benchmarks/seed_spread.py); the plans were the same.
    highs_heuristics
        HiGHS heuristics switched off when the solve starts from a plan (option suffixes).
    cut_pool_soft_limit, cut_pool_soft_limit_weighted
        Rows in HiGHS's cut pool before it ages cuts out faster: k-site models, and models
        with a budget, target or coverage-floor row.
    ils_patience, ils_max_rounds, ils_seed
        Iterated local search stops after ``ils_patience`` rounds without improvement or
        ``ils_max_rounds`` rounds; its perturbations are seeded.
    interchange_max_passes
        At most this many swaps in one interchange.
    lagrangian_iterations
        Subgradient steps of the Lagrangian bound.
    kernel_steps, kernel_count_from, kernel_per_site, kernel_max_passes
        Kernel search (:mod:`connectivity.optimise.kernel`): subgradient steps, the share of
        them after which picks are counted, the kernel's size in sites per site of ``k``, and
        the swaps of each of its interchanges (from a kernel's plan, the interchange over all
        sites made 181 swaps at 800 m).
        Measured at 40,000 x 10,000, k = 200 (benchmarks/felt_speed.md): 300 steps and a
        kernel of 2k gave plans within 0.7 % of the exact method's at 300, 500 and 800 m.
    """

    reduce_min_cells: int = 20_000
    reduce_max_share: float = 0.5
    lp_bound_max_nnz: int = 500_000
    ipm_min_nnz: int = 200_000
    lp_bound_max_s: float = 30.0
    pdlp_bound_s: float = 10.0
    greedy_tighter_bound_s: float = 10.0
    greedy_bound_min_s: float = 0.2
    dive_share: float = 0.4
    lp_share: float = 0.8
    local_search_share: float = 0.1
    pdlp_share: float = 0.2
    restricted_dive_nnz: int = 150_000
    progress_every_s: float = 5.0
    highs_random_seed: int = 0
    highs_heuristics: tuple[str, ...] = ("rins", "rens", "root_reduced_cost", "feasibility_jump")
    cut_pool_soft_limit: int = 500
    cut_pool_soft_limit_weighted: int = 2_000
    ils_patience: int = 15
    ils_max_rounds: int = 60
    ils_seed: int = 0
    interchange_max_passes: int = 50
    lagrangian_iterations: int = 300
    kernel_steps: int = 300
    kernel_count_from: float = 1 / 3
    kernel_per_site: int = 2
    kernel_max_passes: int = 200


DEFAULT_POLICY = Policy()
