"""Prefect flows: the pipeline's table of contents. Each flow composes stages of the ngobrief library."""
