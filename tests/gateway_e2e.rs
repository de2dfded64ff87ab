//! End-to-end tests of the Flight SQL spine: real executor and gateway processes on loopback.

mod support;

use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use prost::Message;
use support::{Cluster, Process, INTERNAL_TOKEN, PASSWORD, USER};
use tonic::transport::Channel;
use tonic::Code;

async fn query_rows(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<Vec<arrow::array::RecordBatch>, tonic::Status> {
    let info = client
        .execute(sql.to_owned(), None)
        .await
        .map_err(status_of)?;
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let stream = client.do_get(ticket).await.map_err(status_of)?;
    stream.try_collect().await.map_err(status_of)
}

/// Fetches every batch of a `FlightInfo`'s first endpoint.
async fn fetch(
    client: &mut FlightSqlServiceClient<Channel>,
    info: &arrow_flight::FlightInfo,
) -> Vec<arrow::array::RecordBatch> {
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    client
        .do_get(ticket)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn status_of(error: FlightError) -> tonic::Status {
    match error {
        FlightError::Tonic(status) => *status,
        other => tonic::Status::unknown(other.to_string()),
    }
}

#[tokio::test]
async fn queries_errors_and_auth() {
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;

    let batches = query_rows(
        &mut client,
        "SELECT sum(i) AS total FROM range(1000000) t(i)",
    )
    .await
    .unwrap();
    let total = batches[0]
        .column(0)
        .as_primitive::<arrow::datatypes::Decimal128Type>()
        .value(0);
    assert_eq!(total, 499_999_500_000);

    let syntax = query_rows(&mut client, "SELEC 1").await.unwrap_err();
    assert_eq!(syntax.code(), Code::InvalidArgument, "{syntax:?}");
    assert!(
        syntax.message().contains("syntax error"),
        "{}",
        syntax.message()
    );

    let missing = query_rows(&mut client, "SELECT * FROM no_such_table")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    let refused = query_rows(&mut client, "SELECT * FROM read_csv('/etc/passwd')")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // Wrong password and missing credentials are refused.
    let channel = Channel::from_shared(cluster.gateway.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut stranger = FlightSqlServiceClient::new(channel.clone());
    let denied = stranger
        .handshake(USER, "not-the-password")
        .await
        .unwrap_err();
    assert!(
        denied.to_string().contains("invalid user name or password"),
        "{denied}"
    );
    let mut anonymous = FlightSqlServiceClient::new(channel);
    let denied = anonymous
        .execute("SELECT 1".into(), None)
        .await
        .unwrap_err();
    assert_eq!(status_of(denied).code(), Code::Unauthenticated);
    let _ = PASSWORD;
}

#[tokio::test]
async fn executor_rejects_calls_without_the_internal_token() {
    let data = tempfile::tempdir().unwrap();
    let allowed = format!("{}/", data.path().display());
    let executor = Process::start(
        "executor",
        &[
            "executor",
            "--grpc-port",
            "0",
            "--internal-token",
            INTERNAL_TOKEN,
            "--allowed-path",
            &allowed,
        ],
    );
    let channel = Channel::from_shared(executor.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightSqlServiceClient::new(channel);
    let error = client.execute("SELECT 1".into(), None).await.unwrap_err();
    assert_eq!(status_of(error).code(), Code::Unauthenticated);
}

#[tokio::test]
async fn executor_failure_mid_stream_is_an_error_not_a_short_result() {
    let data = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;
    let info = client
        .execute(
            "SELECT i, i * 2 AS j FROM range(200000000) t(i)".into(),
            None,
        )
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let mut stream: FlightRecordBatchStream = client.do_get(ticket).await.unwrap();
    let first = stream.try_next().await.unwrap().expect("a first batch");
    assert!(first.num_rows() > 0);
    cluster.executor.kill();
    let mut rows = first.num_rows();
    let outcome = loop {
        match stream.try_next().await {
            Ok(Some(batch)) => rows += batch.num_rows(),
            Ok(None) => break Ok(rows),
            Err(error) => break Err(error),
        }
    };
    assert!(
        outcome.is_err(),
        "stream ended cleanly after {rows} rows although the executor died"
    );
}

#[tokio::test]
async fn dropping_a_stream_stops_the_query_on_the_executor() {
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;
    let info = client
        .execute("SELECT i FROM range(10000000000) t(i)".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let mut stream = client.do_get(ticket).await.unwrap();
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.column(0).as_primitive::<Int64Type>().value(0), 0);
    assert_eq!(
        cluster.executor.metric("tavana_executor_running_queries"),
        1.0
    );
    drop(stream);
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(20);
    while cluster.executor.metric("tavana_executor_running_queries") != 0.0 {
        assert!(
            Instant::now() < deadline,
            "the executor kept running the abandoned query"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        cluster
            .executor
            .metric("tavana_executor_queries_total{outcome=\"cancelled\"}")
            >= 1.0
    );
    // The executor still serves.
    let mut client = cluster.client().await;
    let batches = query_rows(&mut client, "SELECT 42 AS answer")
        .await
        .unwrap();
    assert_eq!(batches[0].column(0).len(), 1);
}

#[tokio::test]
async fn prepared_statements_bind_parameters_and_cancel_works() {
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;
    let mut prepared = client
        .prepare(
            "SELECT ?::BIGINT * 2 AS doubled, ?::VARCHAR AS label".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(prepared.parameter_schema().unwrap().fields().len(), 2);
    assert_eq!(
        prepared.dataset_schema().unwrap().field(0).name(),
        "doubled"
    );
    let parameters = arrow::array::RecordBatch::try_from_iter([
        (
            "a",
            std::sync::Arc::new(arrow::array::Int64Array::from(vec![21])) as arrow::array::ArrayRef,
        ),
        (
            "b",
            std::sync::Arc::new(arrow::array::StringArray::from(vec!["x"]))
                as arrow::array::ArrayRef,
        ),
    ])
    .unwrap();
    prepared.set_parameters(parameters).unwrap();
    let info = prepared.execute().await.unwrap();
    let batches = fetch(&mut client, &info).await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        42
    );
    assert_eq!(batches[0].column(1).as_string::<i32>().value(0), "x");
    prepared.close().await.unwrap();

    // Cancel a long query through CancelFlightInfo.
    let info = client
        .execute(
            "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3".into(),
            None,
        )
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    // DoGet answers once DuckDB has a first result, which for this aggregate is never.
    let mut reader = client.clone();
    let waiter = tokio::spawn(async move {
        let mut stream = reader.do_get(ticket).await?;
        stream.try_next().await
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let action = arrow_flight::Action::new(
        "CancelFlightInfo",
        arrow_flight::CancelFlightInfoRequest::new(info).encode_to_vec(),
    );
    let mut results = client.do_action(action).await.unwrap();
    let body = results
        .message()
        .await
        .unwrap()
        .expect("a cancel result")
        .body;
    let result = arrow_flight::CancelFlightInfoResult::decode(body).unwrap();
    assert_eq!(result.status(), arrow_flight::CancelStatus::Cancelled);
    let outcome = tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .unwrap()
        .unwrap();
    let status = status_of(outcome.unwrap_err());
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
}

#[tokio::test]
async fn updates_are_refused_read_only_and_run_with_writes_allowed() {
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;
    let refused = client
        .execute_update("CREATE TABLE t AS SELECT 1 AS i".into(), None)
        .await
        .unwrap_err();
    assert_eq!(status_of(refused).code(), Code::PermissionDenied);

    let writable = Cluster::start(data.path(), &["--allow-writes"]);
    let mut client = writable.client().await;
    client
        .execute_update("CREATE TABLE t (i INTEGER)".into(), None)
        .await
        .unwrap();
    let inserted = client
        .execute_update("INSERT INTO t SELECT * FROM range(5)".into(), None)
        .await
        .unwrap();
    assert_eq!(inserted, 5);
    let secret = client
        .execute_update(
            "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')".into(),
            None,
        )
        .await
        .unwrap_err();
    // Credential statements go to the session, never the shared engine; this executor has no
    // httpfs, so the session's S3 secret is refused outright.
    let secret = status_of(secret);
    assert_eq!(secret.code(), Code::InvalidArgument, "{secret:?}");
    let mut other = writable.client().await;
    let secrets = query_rows(&mut other, "SELECT count(*) FROM duckdb_secrets()")
        .await
        .unwrap();
    assert_eq!(secrets[0].column(0).as_primitive::<Int64Type>().value(0), 0);
    // DDL sent as a query runs when submitted, even if its result is never fetched.
    let info = client
        .execute("CREATE TABLE submitted (i INTEGER)".into(), None)
        .await
        .unwrap();
    assert_eq!(info.endpoint.len(), 1);
    let batches = query_rows(&mut client, "SELECT count(*) FROM submitted")
        .await
        .unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    let counted = query_rows(&mut client, "INSERT INTO submitted VALUES (1), (2)")
        .await
        .unwrap();
    assert_eq!(counted[0].column(0).as_primitive::<Int64Type>().value(0), 2);
}

#[tokio::test]
async fn sigterm_lets_the_executor_exit_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(data.path(), &[]);
    let status = cluster.gateway.terminate();
    assert!(status.success(), "gateway exit status {status}");
    let status = cluster.executor.terminate();
    assert!(status.success(), "executor exit status {status}");
}

async fn session_action<M: prost::Message + Default>(
    client: &mut FlightSqlServiceClient<Channel>,
    kind: &str,
    body: Vec<u8>,
) -> M {
    let mut results = client
        .do_action(arrow_flight::Action::new(kind.to_owned(), body))
        .await
        .unwrap();
    let body = results.message().await.unwrap().expect("a result").body;
    M::decode(body).unwrap()
}

#[tokio::test]
async fn session_schema_travels_with_every_query() {
    use tavana_proto::session_options::*;
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &["--allow-writes"]);
    let mut client = cluster.client().await;
    client
        .execute_update("CREATE SCHEMA sales".into(), None)
        .await
        .unwrap();
    client
        .execute_update("CREATE TABLE sales.orders AS SELECT 7 AS id".into(), None)
        .await
        .unwrap();
    // Unqualified, the table is not found in the default schema.
    let missing = query_rows(&mut client, "SELECT id FROM orders")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let mut set = SetSessionOptionsRequest::default();
    set.session_options.insert(
        "schema".into(),
        SessionOptionValue {
            option_value: Some(OptionValue::StringValue("sales".into())),
        },
    );
    set.session_options.insert(
        "no_such_option".into(),
        SessionOptionValue {
            option_value: Some(OptionValue::StringValue("x".into())),
        },
    );
    let result: SetSessionOptionsResult =
        session_action(&mut client, SET_SESSION_OPTIONS, set.encode_to_vec()).await;
    assert_eq!(
        result.errors.get("no_such_option").map(|e| e.value),
        Some(SetSessionOptionsErrorValue::InvalidName as i32)
    );
    let batches = query_rows(&mut client, "SELECT id FROM orders")
        .await
        .unwrap();
    assert_eq!(
        batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int32Type>()
            .value(0),
        7
    );

    let options: GetSessionOptionsResult =
        session_action(&mut client, GET_SESSION_OPTIONS, Vec::new()).await;
    assert_eq!(
        options
            .session_options
            .get("schema")
            .and_then(|v| v.option_value.clone()),
        Some(OptionValue::StringValue("sales".into()))
    );
    // Another session is unaffected.
    let mut other = cluster.client().await;
    assert!(query_rows(&mut other, "SELECT id FROM orders")
        .await
        .is_err());

    let closed: CloseSessionResult = session_action(&mut client, CLOSE_SESSION, Vec::new()).await;
    assert_eq!(closed.status, CloseSessionStatus::Closed as i32);
    let after = query_rows(&mut client, "SELECT 1").await.unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn catalog_commands_list_tables_with_schemas() {
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &["--allow-writes"]);
    let mut client = cluster.client().await;
    client
        .execute_update("CREATE TABLE trips (id BIGINT, city VARCHAR)".into(), None)
        .await
        .unwrap();
    let info = client
        .get_tables(arrow_flight::sql::CommandGetTables {
            include_schema: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let batches = fetch(&mut client, &info).await;
    let batch = &batches[0];
    let names = batch
        .column_by_name("table_name")
        .unwrap()
        .as_string::<i32>();
    let row = (0..names.len())
        .find(|&i| names.value(i) == "trips")
        .expect("trips listed");
    let schema_bytes = batch
        .column_by_name("table_schema")
        .unwrap()
        .as_binary::<i32>()
        .value(row);
    let schema = arrow::ipc::convert::try_schema_from_ipc_buffer(schema_bytes).unwrap();
    assert_eq!(schema.field(1).name(), "city");

    let info = client.get_catalogs().await.unwrap();
    let catalogs = fetch(&mut client, &info).await;
    assert_eq!(catalogs[0].column(0).as_string::<i32>().value(0), "memory");

    let info = client
        .get_sql_info(vec![arrow_flight::sql::SqlInfo::FlightSqlServerName])
        .await
        .unwrap();
    let sql_info = fetch(&mut client, &info).await;
    assert_eq!(sql_info[0].num_rows(), 1);

    let info = client
        .get_primary_keys(arrow_flight::sql::CommandGetPrimaryKeys {
            table: "trips".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let keys = fetch(&mut client, &info).await;
    assert_eq!(keys.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
}

#[tokio::test]
async fn forged_tickets_are_checked_again() {
    use arrow_flight::sql::{ProstMessageExt, TicketStatementQuery};
    let data = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(data.path(), &[]);
    let mut client = cluster.client().await;
    // A real ticket names the executor; rewrite its statement into a write the sandbox refuses.
    let info = client.execute("SELECT 1".into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let any = arrow_flight::sql::Any::decode(ticket.ticket).unwrap();
    let outer: TicketStatementQuery = any.unpack().unwrap().unwrap();
    let mut envelope = tavana_proto::GatewayTicket::from_bytes(&outer.statement_handle).unwrap();
    let inner_any = arrow_flight::sql::Any::decode(envelope.inner.clone()).unwrap();
    let inner: TicketStatementQuery = inner_any.unpack().unwrap().unwrap();
    let mut statement =
        tavana_proto::ExecutorStatement::from_bytes(&inner.statement_handle).unwrap();
    assert!(
        !statement.signature.is_empty(),
        "the executor signs what it checked"
    );
    let target = data.path().join("stolen.csv");
    statement.sql = format!("COPY (SELECT 1) TO '{}'", target.display());
    let forged_inner = TicketStatementQuery {
        statement_handle: statement.to_bytes(),
    };
    envelope.inner = forged_inner.as_any().encode_to_vec().into();
    let forged = TicketStatementQuery {
        statement_handle: envelope.to_bytes(),
    };
    let ticket = arrow_flight::Ticket::new(forged.as_any().encode_to_vec());
    let result = match client.do_get(ticket).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.map(|_| ()),
        Err(error) => Err(error),
    };
    let status = status_of(result.unwrap_err());
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(!target.exists());
}
