"""Plans in money, with capacity and backhaul.

:mod:`~connectivity.costing.spec` (the scenario's ``money``, ``capacity`` and ``backhaul``
sections and their checks; no I/O), :mod:`~connectivity.costing.money` (present values: total
cost of ownership, net present cost, equivalent annual cost; each site's costs) and
:mod:`~connectivity.costing.backhaul` (each site's cheapest feasible way to the internet: fibre,
point-to-point microwave over the terrain, or satellite). The capacitated model itself is in
:mod:`connectivity.optimise.capacity`.
"""
