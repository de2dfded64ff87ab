"""Pytest fixtures over the real-process harness (tavana_harness.py).

The session fixture ``tavana`` starts one real executor and one real gateway
from ``TAVANA_BIN`` on port 0 and stops them at the end; ``data`` generates the
sample data (Parquet files for a glob, a CSV, a JSON file, TPC-H at SF 0.01)
into the directory that is the executor's only ``--allowed-path``. Tests that
break processes (kill an executor, send SIGTERM) start private clusters with
``cluster_factory``. When a test fails, the tail of every live process log is
attached to its report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

import tavana_harness
from tavana_harness import (  # noqa: F401 - re-exported for nested conftests
    Cluster,
    Process,
    extension_dir,
    generate_sample_data,
    local_duckdb,
    metric_value,
    query_table,
    start_cluster,
    tavana_bin,
)


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> dict[str, Path]:
    """Sample data, generated once: parquet glob, CSV, JSON and TPC-H SF 0.01."""
    ext = extension_dir() / "v1.5.5"
    if not ext.exists():
        pytest.fail(
            f"DuckDB extensions missing under {ext}: run scripts/provision-extensions.sh",
            pytrace=False,
        )
    data_dir = tmp_path_factory.mktemp("data")
    files = generate_sample_data(data_dir)
    files["data_dir"] = data_dir
    return files


@pytest.fixture(scope="session")
def tavana(tmp_path_factory, data) -> Iterator[Cluster]:
    """One executor and one gateway shared by the whole session."""
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"), data["data_dir"], data)
    try:
        yield cluster
    finally:
        cluster.retire()


@pytest.fixture
def cluster_factory(tmp_path, data) -> Iterator[Callable[..., Cluster]]:
    """Start private clusters (for tests that kill or signal processes)."""
    started: list[Cluster] = []

    def factory(**kwargs) -> Cluster:
        cluster = start_cluster(
            tmp_path / f"cluster{len(started)}", data["data_dir"], data, **kwargs
        )
        started.append(cluster)
        return cluster

    yield factory
    for cluster in started:
        for p in cluster.processes:
            p.kill()
            p.retired = True


@pytest.fixture
def conn(tavana):
    connection = tavana.connect()
    try:
        yield connection
    finally:
        connection.close()


# --------------------------------------------------------------------------
# Reporting


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for proc in tavana_harness.ALL_PROCESSES:
            if proc.retired:
                continue
            state = "running" if proc.alive() else f"exited {proc.popen.returncode}"
            report.sections.append(
                (f"tavana {proc.role} [{state}] {proc.workdir}", proc.log_tail())
            )


def pytest_sessionstart(session):
    # A missing binary is reported once, clearly, rather than as N fixture errors.
    binary = tavana_bin()
    if not binary.exists() and not os.environ.get("TAVANA_ALLOW_MISSING_BIN"):
        raise pytest.UsageError(
            f"tavana binary not found at {binary}; run `cargo build --release --bin tavana` "
            "(CARGO_TARGET_DIR=$HOME/.cache/tavana/target) or set TAVANA_BIN"
        )

