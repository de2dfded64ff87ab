"""Fixtures for the lake tests: emulators, lake data, and a Tavana cluster over them.

`lake` (session scope) starts moto (S3, IAM enforced) behind a request-counting
proxy, Azurite and the GCS emulator, all on 127.0.0.1 port 0, and writes the
test data with real writers (lake_data.py). `lake_cluster` starts one executor
and one gateway (tavana_harness.start_cluster) configured with the emulators'
credentials (a credentials file for S3, flags for Azure and GCS) and the
catalog file `catalog.toml`, which tests may rewrite to exercise reloads.

Azurite comes from scripts/setup-emulators.sh (run here when missing).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import adbc_driver_flightsql.dbapi as flightsql
import pyarrow.flight as flight
import pytest

import lake_data
import lake_emulators
import tavana_harness

from lake_settings import (
    ALLOWED_PATHS,
    CATALOG_POLL_SECS,
    HTTP_TIMEOUT_SECS,
    OPEN_TIMEOUT_SECS,
    catalog_text,
    credentials_text,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Lake:
    data: lake_data.LakeData
    proxy: lake_emulators.CountingProxy
    moto: lake_emulators.Emulator
    azurite: lake_emulators.Emulator
    gcs: lake_emulators.Emulator
    hanging: lake_emulators.HangingServer
    refused_port: int
    workdir: Path

    @property
    def s3_endpoint(self) -> str:
        """What Tavana uses for S3: the counting proxy in front of moto."""
        return self.proxy.endpoint


def _ensure_azurite() -> None:
    binary = lake_emulators.node_dir() / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        subprocess.run([str(REPO_ROOT / "scripts" / "setup-emulators.sh")], check=True)


@pytest.fixture(scope="session")
def lake(tmp_path_factory) -> Iterator[Lake]:
    workdir = tmp_path_factory.mktemp("lake")
    _ensure_azurite()
    started = []
    try:
        moto = lake_emulators.start_moto(workdir / "moto", lake_data.BOOTSTRAP_ACTIONS)
        started.append(moto)
        azurite = lake_emulators.start_azurite(workdir / "azurite")
        started.append(azurite)
        gcs = lake_emulators.start_gcs(workdir / "gcs")
        started.append(gcs)
        proxy = lake_emulators.CountingProxy(moto.port)
        started.append(proxy)
        hanging = lake_emulators.HangingServer()
        started.append(hanging)

        local_dir = workdir / "local"
        local_dir.mkdir()
        data = lake_data.write_s3(moto.endpoint, workdir)
        data.local_dir = local_dir
        data.azure_connection_string = lake_data.write_azure(azurite.endpoint)
        lake_data.write_gcs(gcs.endpoint)
        data.gcs_endpoint = gcs.endpoint
        lake_data.write_local(local_dir)
        yield Lake(
            data=data,
            proxy=proxy,
            moto=moto,
            azurite=azurite,
            gcs=gcs,
            hanging=hanging,
            refused_port=lake_emulators.closed_port(),
            workdir=workdir,
        )
    finally:
        for thing in reversed(started):
            thing.stop()


@dataclass
class LakeCluster:
    lake: Lake
    cluster: tavana_harness.Cluster
    catalog_file: Path

    def connect(self, **kwargs):
        return self.cluster.connect(**kwargs)

    def write_catalog(self, text: str) -> None:
        tmp = self.catalog_file.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.catalog_file)


@pytest.fixture(scope="session")
def lake_cluster(lake: Lake, tmp_path_factory) -> Iterator[LakeCluster]:
    workdir = tmp_path_factory.mktemp("lake-cluster")
    catalog_file = workdir / "catalog.toml"
    catalog_file.write_text(catalog_text(lake))
    credentials_file = workdir / "credentials.toml"
    credentials_file.write_text(credentials_text(lake))
    credentials_file.chmod(0o600)
    args = [
        f"--catalog-file={catalog_file}",
        f"--catalog-poll-secs={CATALOG_POLL_SECS}",
        f"--credentials-file={credentials_file}",
        f"--azure-connection-string={lake.data.azure_connection_string}",
        "--gcs-hmac-key-id=GOOGTEST",
        "--gcs-hmac-secret=gcs-secret",
        f"--gcs-endpoint={lake.data.gcs_endpoint}",
        f"--http-timeout-secs={HTTP_TIMEOUT_SECS}",
        "--http-retries=1",
        f"--lake-open-timeout-secs={OPEN_TIMEOUT_SECS}",
    ]
    for path in ALLOWED_PATHS:
        args.append(f"--allowed-path={path}")
    cluster = tavana_harness.start_cluster(
        workdir,
        lake.data.local_dir,
        {},
        extra_executor_args=tuple(args),
    )
    try:
        yield LakeCluster(lake=lake, cluster=cluster, catalog_file=catalog_file)
    finally:
        cluster.retire()


# --------------------------------------------------------------------------
# Sessions with their own credentials, straight against the executor: what the
# gateway does for a session that runs CREATE SECRET / SET s3_* (see
# tavana_proto::messages::SESSION_CREDENTIAL_ACTION).

SESSION_CREDENTIAL_ACTION = "tavana.SessionCredential"


@dataclass
class ExecutorSession:
    cluster: LakeCluster
    context: dict

    def _headers(self) -> dict[str, str]:
        return {
            "x-tavana-internal-token": self.cluster.cluster.internal_token,
            "x-tavana-session": json.dumps(self.context),
        }

    def apply(self, sql: str) -> "ExecutorSession":
        """Runs one credential statement; the executor answers with the new context."""
        client = flight.FlightClient(f"grpc://{self.cluster.cluster.executor.listen}")
        try:
            options = flight.FlightCallOptions(
                headers=[(k.encode(), v.encode()) for k, v in self._headers().items()],
                timeout=60,
            )
            results = list(
                client.do_action(flight.Action(SESSION_CREDENTIAL_ACTION, sql.encode()), options)
            )
        finally:
            client.close()
        assert len(results) == 1
        return ExecutorSession(self.cluster, json.loads(results[0].body.to_pybytes()))

    def connect(self):
        """An ADBC connection to the executor carrying this session on every call."""
        prefix = "adbc.flight.sql.rpc.call_header."
        return flightsql.connect(
            f"grpc://{self.cluster.cluster.executor.listen}",
            db_kwargs={prefix + k: v for k, v in self._headers().items()},
            autocommit=True,
        )


@pytest.fixture
def executor_session(lake_cluster) -> Callable[..., ExecutorSession]:
    def start(*statements: str, user: str = "alice") -> ExecutorSession:
        session = ExecutorSession(lake_cluster, {"user": user})
        for statement in statements:
            session = session.apply(statement)
        return session

    return start
