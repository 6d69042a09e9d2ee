"""Planning studies: many plans over one coverage model, solved on Dask.

:mod:`~connectivity.study.spec` (the scenario's ``study:`` section) and
:mod:`~connectivity.study.model` (the coverage model the plans share, and one plan solved)
import no Dask; :mod:`~connectivity.study.engine` runs the plans on a Dask cluster and
:mod:`~connectivity.study.outputs` writes what they found.
"""
