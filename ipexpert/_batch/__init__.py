"""Many profiles in one run: locally, on a Dask cluster, and Parquet or fsspec inputs and outputs."""
