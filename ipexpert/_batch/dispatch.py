"""The one way into batch: the local engine on local files, or Parquet, URLs and Dask, chosen from the options.

Nothing in the batch package imports this module: `local`, `parquet` and `on_dask` stay below it.
"""

from __future__ import annotations

import functools

from ipexpert._batch import local as _local
from ipexpert._batch.local import default_jobs  # noqa: F401 - the dispatcher is batch's one door


def prepare(
    source,
    output,
    *,
    engine="local",
    scheduler=None,
    jobs=1,
    partition_size=50,
    column="profile",
    output_format="jsonl",
    echo=print,
    resume=False,
    **options,
):
    """(the number of inputs, or None when unknown; a function of a progress callback that runs the batch).

    The local engine on a local JSON Lines file or folder is `run`; Parquet and URL inputs,
    Parquet tables out, and the Dask engine go through `parquet` and `on_dask`.
    """
    plain = (
        engine == "local"
        and output_format == "jsonl"
        and "://" not in source
        and not source.lower().endswith((".parquet", ".pq"))
    )
    if plain:
        items = _local.collect(source)
        return len(items), functools.partial(_run_with_progress, items, output, jobs, {**options, "resume": resume})
    from ipexpert._batch import parquet as _parquet  # needs the [dask] extra: imported only here

    inputs = _parquet.open_inputs(source, column)
    if engine == "dask":
        from ipexpert._batch import on_dask as _on_dask

        tables = output_format == "parquet"

        def on_dask(progress):
            return _on_dask.run(
                inputs,
                output,
                progress=progress,
                echo=echo,
                scheduler=scheduler,
                workers=jobs,
                partition_size=partition_size,
                tables=tables,
                **options,
            )

        return inputs.count, on_dask
    if output_format == "parquet":
        return inputs.count, functools.partial(_parquet_tables, inputs, output, jobs, options)
    return inputs.count, functools.partial(_run_with_progress, list(inputs), output, jobs, {**options, "resume": resume})


def _run_with_progress(items, output, jobs, options, progress):
    return _local.run(items, output, jobs=jobs, progress=progress, **options)


def _parquet_tables(inputs, output, jobs, options, progress):
    from ipexpert._batch import parquet as _parquet

    return _parquet.local_tables(inputs, output, jobs=jobs, progress=progress, **options)
