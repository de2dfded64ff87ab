"""Test data for the lake tests, written by real writers.

- Delta (deltalake): `orders` with four versions (create, append, delete,
  append) and `events`, partitioned by day.
- Iceberg (pyiceberg, SQL catalog, S3 FileIO): `visits` with two snapshots and a
  Hadoop-style version hint.
- Parquet (DuckDB) partitioned hive-style by region, big enough that projection
  and row-group pruning show in bytes; CSV and NDJSON; a corrupt Parquet file.
- Buckets `private-a` / `private-b` readable only with alice's / bob's keys.
- The same small `items` table on Azure (Azurite) and GCS, and Delta + CSV on
  local disk.

Every expected row set lives here next to the code that wrote it.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import deltalake
import pyarrow as pa
import pyarrow.parquet as pq

REGION = "us-east-1"

# Azurite's well-known development account.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

ORDERS_SCHEMA = pa.schema(
    [("id", pa.int64()), ("customer", pa.string()), ("amount", pa.float64())]
)
# Version by version, what `orders` holds (sorted by id).
ORDERS_VERSIONS = [
    [(1, "ann", 10.0), (2, "bob", 20.0), (3, "cid", 30.0)],
    [(1, "ann", 10.0), (2, "bob", 20.0), (3, "cid", 30.0), (4, "dee", 40.0), (5, "eve", 50.0)],
    [(1, "ann", 10.0), (3, "cid", 30.0), (4, "dee", 40.0), (5, "eve", 50.0)],
    [(1, "ann", 10.0), (3, "cid", 30.0), (4, "dee", 40.0), (5, "eve", 50.0), (6, "fay", 60.0)],
]

EVENT_DAYS = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
EVENTS_PER_DAY = 50

VISITS_SNAPSHOTS = [
    [(1, "/home"), (2, "/pricing")],
    [(1, "/home"), (2, "/pricing"), (3, "/docs")],
]

SALES_REGIONS = ["apac", "eu", "us"]
SALES_ROWS_PER_REGION = 60_000
SALES_ROW_GROUP = 10_000

ITEMS = [(1, "pen", 1.5), (2, "ink", 4.25), (3, "pad", 3.0)]
CUSTOMERS = [(1, "ann", "Oslo"), (2, "bob", "Lima"), (3, "cid", "Pune")]
CLICKS = [(1, "/home", True), (2, "/docs", False)]


@dataclass
class Keys:
    access_key_id: str
    secret_access_key: str


@dataclass
class LakeData:
    moto_endpoint: str
    admin: Keys
    alice: Keys
    bob: Keys
    visits_snapshots: list[int]
    visits_location: str
    local_dir: Path
    azure_connection_string: str
    gcs_endpoint: str
    files: dict[str, str] = field(default_factory=dict)


def _iam_bootstrap(endpoint: str) -> Keys:
    """Creates the admin user with moto's first three unauthenticated calls."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
        region_name=REGION,
    )
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin",
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


# The IAM calls `_iam_bootstrap` makes before moto starts enforcing IAM.
BOOTSTRAP_ACTIONS = 3


def _bucket_user(iam, name: str, bucket: str) -> Keys:
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName=f"{bucket}-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def _table(rows, schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows)) if rows else [[] for _ in schema]
    return pa.table({f.name: list(c) for f, c in zip(schema, columns)}, schema=schema)


def _parquet_bytes(table: pa.Table, row_group_size: int | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue().to_pybytes()


def write_orders(uri: str, storage_options: dict | None) -> None:
    """Four Delta versions: create, append, delete (id 2), append."""
    kwargs = {"storage_options": storage_options} if storage_options else {}
    deltalake.write_deltalake(uri, _table(ORDERS_VERSIONS[0], ORDERS_SCHEMA), **kwargs)
    deltalake.write_deltalake(
        uri, _table(ORDERS_VERSIONS[1][3:], ORDERS_SCHEMA), mode="append", **kwargs
    )
    deltalake.DeltaTable(uri, **kwargs).delete("id = 2")
    deltalake.write_deltalake(
        uri, _table(ORDERS_VERSIONS[3][4:], ORDERS_SCHEMA), mode="append", **kwargs
    )
    assert deltalake.DeltaTable(uri, **kwargs).version() == len(ORDERS_VERSIONS) - 1


def events_rows():
    return [
        (day, n, f"user{n % 7}")
        for day in EVENT_DAYS
        for n in range(EVENTS_PER_DAY)
    ]


def sales_table(region: str) -> pa.Table:
    n = SALES_ROWS_PER_REGION
    ids = pa.array(range(n), pa.int64())
    return pa.table(
        {
            "id": ids,
            "amount": pa.array([float(i % 1000) for i in range(n)], pa.float64()),
            # Wide, poorly compressible text: reading it costs bytes.
            "note": pa.array([f"{region}-{i:08d}-{(i * 7919) % 104729:06d}" * 4 for i in range(n)]),
        }
    )


def write_s3(endpoint: str, workdir: Path) -> LakeData:
    admin = _iam_bootstrap(endpoint)
    session = dict(
        endpoint_url=endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
        region_name=REGION,
    )
    s3 = boto3.client("s3", **session)
    iam = boto3.client("iam", **session)
    for bucket in ("lake", "private-a", "private-b"):
        s3.create_bucket(Bucket=bucket)
    alice = _bucket_user(iam, "alice", "private-a")
    bob = _bucket_user(iam, "bob", "private-b")

    storage = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": admin.access_key_id,
        "AWS_SECRET_ACCESS_KEY": admin.secret_access_key,
        "AWS_REGION": REGION,
        "AWS_ALLOW_HTTP": "true",
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }
    write_orders("s3://lake/delta/orders", storage)
    events_schema = pa.schema(
        [("day", pa.string()), ("n", pa.int64()), ("user_name", pa.string())]
    )
    deltalake.write_deltalake(
        "s3://lake/delta/events",
        _table(events_rows(), events_schema),
        partition_by=["day"],
        storage_options=storage,
    )

    # Iceberg: two snapshots through pyiceberg's SQL catalog, plus a version hint so
    # the table folder itself is a valid location.
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "tavana_test",
        uri=f"sqlite:///{workdir / 'iceberg.db'}",
        warehouse="s3://lake/iceberg",
        **{
            "s3.endpoint": endpoint,
            "s3.access-key-id": admin.access_key_id,
            "s3.secret-access-key": admin.secret_access_key,
            "s3.region": REGION,
        },
    )
    catalog.create_namespace("web")
    visits_schema = pa.schema([("id", pa.int64()), ("page", pa.string())])
    visits = catalog.create_table("web.visits", schema=visits_schema)
    visits.append(_table(VISITS_SNAPSHOTS[0], visits_schema))
    visits.append(_table(VISITS_SNAPSHOTS[1][2:], visits_schema))
    visits = catalog.load_table("web.visits")
    snapshots = [s.snapshot_id for s in visits.metadata.snapshots]
    assert len(snapshots) == 2
    hint = visits.metadata_location.rsplit("/", 1)[1].removesuffix(".metadata.json")
    location = visits.location()
    s3.put_object(
        Bucket="lake",
        Key=location.removeprefix("s3://lake/") + "/metadata/version-hint.text",
        Body=hint.encode(),
    )

    for region in SALES_REGIONS:
        s3.put_object(
            Bucket="lake",
            Key=f"parquet/sales/region={region}/part-0.parquet",
            Body=_parquet_bytes(sales_table(region), SALES_ROW_GROUP),
        )
    customers = "id,name,city\n" + "".join(f"{i},{n},{c}\n" for i, n, c in CUSTOMERS)
    s3.put_object(Bucket="lake", Key="csv/customers.csv", Body=customers.encode())
    clicks = "".join(
        json.dumps({"id": i, "page": p, "ok": ok}) + "\n" for i, p, ok in CLICKS
    )
    s3.put_object(Bucket="lake", Key="json/clicks.ndjson", Body=clicks.encode())
    s3.put_object(Bucket="lake", Key="corrupt/bad.parquet", Body=b"PAR1" + b"\x00garbage" * 8 + b"PAR1")
    for bucket, word in (("private-a", "for alice"), ("private-b", "for bob")):
        s3.put_object(
            Bucket=bucket,
            Key="secret.parquet",
            Body=_parquet_bytes(pa.table({"word": [word]})),
        )
    return LakeData(
        moto_endpoint=endpoint,
        admin=admin,
        alice=alice,
        bob=bob,
        visits_snapshots=snapshots,
        visits_location=location,
        local_dir=workdir,
        azure_connection_string="",
        gcs_endpoint="",
    )


def items_table() -> pa.Table:
    return _table(
        ITEMS, pa.schema([("id", pa.int64()), ("name", pa.string()), ("price", pa.float64())])
    )


def items_csv() -> bytes:
    return ("id,name,price\n" + "".join(f"{i},{n},{p}\n" for i, n, p in ITEMS)).encode()


def write_azure(endpoint: str) -> str:
    """Items as Parquet and CSV in container `lake`; returns the connection string."""
    from azure.storage.blob import BlobServiceClient

    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
    )
    service = BlobServiceClient.from_connection_string(connection)
    service.create_container("lake")
    service.get_blob_client("lake", "parquet/items.parquet").upload_blob(
        _parquet_bytes(items_table())
    )
    service.get_blob_client("lake", "csv/items.csv").upload_blob(items_csv())
    return connection


def write_gcs(endpoint: str) -> None:
    """Items as Parquet and NDJSON in bucket `gbucket` (the emulator's JSON API)."""

    def call(method: str, url: str, body: bytes, content_type: str) -> None:
        request = urllib.request.Request(
            endpoint + url, data=body, method=method, headers={"Content-Type": content_type}
        )
        urllib.request.urlopen(request, timeout=30).read()

    call("POST", "/storage/v1/b?project=tavana", json.dumps({"name": "gbucket"}).encode(), "application/json")
    upload = "/upload/storage/v1/b/gbucket/o?uploadType=media&name="
    call("POST", upload + "parquet/items.parquet", _parquet_bytes(items_table()), "application/octet-stream")
    ndjson = "".join(
        json.dumps({"id": i, "name": n, "price": p}) + "\n" for i, n, p in ITEMS
    ).encode()
    call("POST", upload + "json/items.json", ndjson, "application/octet-stream")


def write_local(local_dir: Path) -> None:
    (local_dir / "delta").mkdir(parents=True, exist_ok=True)
    write_orders(str(local_dir / "delta" / "orders"), None)
    (local_dir / "csv").mkdir(exist_ok=True)
    (local_dir / "csv" / "items.csv").write_bytes(items_csv())
