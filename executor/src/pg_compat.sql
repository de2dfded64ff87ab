-- PostgreSQL compatibility for clients of the pg-adapter (psql, pgJDBC, SQLAlchemy, BI tools).
--
-- Run by every executor at start-up, before the configuration is locked: one statement per
-- semicolon, so there is no semicolon inside any statement or comment of this file.
--
-- Where the catalog emulation lives, and why: PostgreSQL clients browse with pg_catalog and
-- information_schema queries, and the answer must come from the live DuckDB catalog (the
-- schemas, tables, lake views and columns this executor knows), so it is evaluated here, in
-- DuckDB, where that catalog is. DuckDB's own pg_catalog views are not used: their OIDs are
-- DuckDB type ids rather than PostgreSQL OIDs (`\d` showed wrong types) and several relations
-- and columns clients need are missing (pg_database.datcollate, pg_policy, ...).
--
-- - Each catalog relation a client may read is a table macro `pg_compat_<relation>()` (or
--   `pg_compat_is_<view>()` for information_schema) with PostgreSQL 15's columns. Table macros,
--   not views: they add nothing to the catalog that Flight SQL GetTables or the emulation
--   itself would list. The pg-adapter rewrites `pg_catalog.pg_class`, `pg_class`,
--   `information_schema.columns`, ... into calls of these macros, passing what only the session
--   knows (database name, user, settings) as arguments.
-- - Dynamic relations (pg_namespace, pg_class, pg_attribute, pg_attrdef, pg_description,
--   pg_tables, pg_views, information_schema.tables/columns/schemata/views) are computed from
--   duckdb_schemas(), duckdb_tables(), duckdb_views() and duckdb_columns() of the default
--   database. Static ones (pg_type, pg_am, pg_collation, ...) hold rows exported from
--   PostgreSQL 15. Relations Tavana has nothing to put in (indexes, constraints, triggers,
--   policies, functions, ...) are typed and empty, so client queries bind and return no rows.
-- - OIDs are stable across executors and restarts: a relation's OID is derived from a hash of
--   its schema and name (`pg_compat_rel_oid`), so a client may look a table up on one executor
--   and describe it by OID on another. DuckDB's main schema gets PostgreSQL's public OID (2200).
-- - A column's type OID is the PostgreSQL type the adapter sends in RowDescription for that
--   DuckDB type (`pg_compat_type_oid` mirrors pg-adapter/src/encode.rs), so `\d` and
--   DatabaseMetaData.getColumns agree with what a query returns.
-- - pg_class also has relhasoids (gone since PostgreSQL 12): psqlODBC (Tableau) still reads it.
-- - Views created by the lake catalog (`SELECT * FROM delta_scan(...)`, `read_parquet(...)`, ...)
--   are tables to users: they appear with relkind 'r' and table_type 'BASE TABLE'.
-- - reg* casts: the adapter rewrites `'name'::regclass` into `pg_compat_to_regclass('name')`
--   (an OID) and `oid_column::regclass` into `pg_compat_regclass_name(oid_column)` (a name).
--   regproc values are represented by function names throughout.
-- - Scalar macros never put their arguments inside a subquery: an argument like `t.oid` or
--   `oid` would bind to the subquery's own columns. They build a map in an uncorrelated
--   subquery and look the argument up outside it.
--
-- The static parts between the GENERATED markers come from pg-adapter/dev/export_pg_catalog.py
-- run against PostgreSQL 15.

-- Scalar functions PostgreSQL clients call ----------------------------------------------------
CREATE OR REPLACE MACRO pg_encoding_to_char(enc) AS 'UTF8';
CREATE OR REPLACE MACRO pg_char_to_encoding(name) AS 6;
CREATE OR REPLACE MACRO pg_backend_pid() AS 0;
CREATE OR REPLACE MACRO pg_is_in_recovery() AS false;
CREATE OR REPLACE MACRO pg_is_wal_replay_paused() AS false;
CREATE OR REPLACE MACRO pg_tablespace_location(oid) AS '';
CREATE OR REPLACE MACRO pg_total_relation_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_relation_size(oid) AS 0::BIGINT, (oid, fork) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_table_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_indexes_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_database_size(name) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_get_indexdef(oid) AS NULL::VARCHAR, (oid, col, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_constraintdef(oid) AS NULL::VARCHAR, (oid, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_expr(expr, rel) AS expr::VARCHAR, (expr, rel, pretty) AS expr::VARCHAR;
CREATE OR REPLACE MACRO pg_get_function_identity_arguments(oid) AS '';
CREATE OR REPLACE MACRO pg_get_function_result(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_function_arguments(oid) AS '';
CREATE OR REPLACE MACRO pg_get_functiondef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_triggerdef(oid) AS NULL::VARCHAR, (oid, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_ruledef(oid) AS NULL::VARCHAR, (oid, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_statisticsobjdef_columns(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_partkeydef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_serial_sequence(tbl, col) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO shobj_description(oid, catalog) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_relation_is_publishable(oid) AS false;
CREATE OR REPLACE MACRO pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE OR REPLACE MACRO pg_conf_load_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE OR REPLACE MACRO inet_client_addr() AS NULL::VARCHAR;
CREATE OR REPLACE MACRO inet_client_port() AS NULL::INTEGER;
CREATE OR REPLACE MACRO inet_server_port() AS NULL::INTEGER;
CREATE OR REPLACE MACRO pg_my_temp_schema() AS 0::BIGINT;
-- The schemas an unqualified name is looked up in: DuckDB's main plays PostgreSQL's public.
CREATE OR REPLACE MACRO current_schemas(implicit) AS CASE WHEN implicit THEN ['pg_catalog', 'main'] ELSE ['main'] END;
CREATE OR REPLACE MACRO pg_type_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_function_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_collation_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_conversion_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_opclass_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_opfamily_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_operator_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_ts_config_is_visible(oid) AS true;
CREATE OR REPLACE MACRO pg_stat_get_numscans(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_client_encoding() AS 'UTF8';
-- PostgreSQL's JSON constructors under DuckDB's names (PostgreSQL's are variadic: up to 12 pairs).
CREATE OR REPLACE MACRO json_build_object(k1, v1) AS json_object(k1::VARCHAR, v1), (k1, v1, k2, v2) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2), (k1, v1, k2, v2, k3, v3) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3), (k1, v1, k2, v2, k3, v3, k4, v4) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7, k8::VARCHAR, v8), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8, k9, v9) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7, k8::VARCHAR, v8, k9::VARCHAR, v9), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8, k9, v9, k10, v10) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7, k8::VARCHAR, v8, k9::VARCHAR, v9, k10::VARCHAR, v10), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8, k9, v9, k10, v10, k11, v11) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7, k8::VARCHAR, v8, k9::VARCHAR, v9, k10::VARCHAR, v10, k11::VARCHAR, v11), (k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6, k7, v7, k8, v8, k9, v9, k10, v10, k11, v11, k12, v12) AS json_object(k1::VARCHAR, v1, k2::VARCHAR, v2, k3::VARCHAR, v3, k4::VARCHAR, v4, k5::VARCHAR, v5, k6::VARCHAR, v6, k7::VARCHAR, v7, k8::VARCHAR, v8, k9::VARCHAR, v9, k10::VARCHAR, v10, k11::VARCHAR, v11, k12::VARCHAR, v12);
CREATE OR REPLACE MACRO json_build_array() AS json_array(), (v1) AS json_array(v1), (v1, v2) AS json_array(v1, v2), (v1, v2, v3) AS json_array(v1, v2, v3), (v1, v2, v3, v4) AS json_array(v1, v2, v3, v4), (v1, v2, v3, v4, v5) AS json_array(v1, v2, v3, v4, v5), (v1, v2, v3, v4, v5, v6) AS json_array(v1, v2, v3, v4, v5, v6), (v1, v2, v3, v4, v5, v6, v7) AS json_array(v1, v2, v3, v4, v5, v6, v7), (v1, v2, v3, v4, v5, v6, v7, v8) AS json_array(v1, v2, v3, v4, v5, v6, v7, v8), (v1, v2, v3, v4, v5, v6, v7, v8, v9) AS json_array(v1, v2, v3, v4, v5, v6, v7, v8, v9), (v1, v2, v3, v4, v5, v6, v7, v8, v9, v10) AS json_array(v1, v2, v3, v4, v5, v6, v7, v8, v9, v10), (v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11) AS json_array(v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11), (v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12) AS json_array(v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12);
CREATE OR REPLACE MACRO json_agg(value) AS json_group_array(value);
CREATE OR REPLACE MACRO array_to_json(value) AS to_json(value);
CREATE OR REPLACE MACRO row_to_json(value) AS to_json(value);
CREATE OR REPLACE MACRO pg_has_role(role, mode) AS true, (usr, role, mode) AS true;
CREATE OR REPLACE MACRO has_any_column_privilege(tbl, priv) AS true, (usr, tbl, priv) AS true;
CREATE OR REPLACE MACRO has_column_privilege(tbl, col, priv) AS true, (usr, tbl, col, priv) AS true;
CREATE OR REPLACE MACRO has_function_privilege(fn, priv) AS true, (usr, fn, priv) AS true;
CREATE OR REPLACE MACRO has_sequence_privilege(seq, priv) AS true, (usr, seq, priv) AS true;
CREATE OR REPLACE MACRO has_tablespace_privilege(spc, priv) AS true, (usr, spc, priv) AS true;
CREATE OR REPLACE MACRO array_upper(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN len(arr) ELSE NULL END;
CREATE OR REPLACE MACRO array_lower(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN 1 ELSE NULL END;
CREATE OR REPLACE MACRO generate_subscripts(arr, dim) AS unnest(generate_series(1, CASE WHEN dim = 1 THEN len(arr) ELSE 0 END));
CREATE OR REPLACE MACRO _pg_expandarray(arr) AS unnest(list_transform(generate_series(1, len(arr)), i -> {'x': arr[i], 'n': i}));
CREATE OR REPLACE MACRO quote_ident(name) AS CASE WHEN regexp_full_match(name, '[a-z_][a-z0-9_$]*') THEN name ELSE '"' || replace(name, '"', '""') || '"' END;
CREATE OR REPLACE MACRO quote_literal(val) AS '''' || replace(val::VARCHAR, '''', '''''') || '''';
-- PostgreSQL functions DuckDB lacks, under names DuckDB does not use (a macro would shadow a
-- built-in for Flight SQL clients too). DuckDB has no clock that moves within a statement:
-- clock_timestamp() and statement_timestamp() are the statement's start, as now() is.
CREATE OR REPLACE MACRO clock_timestamp() AS now();
CREATE OR REPLACE MACRO statement_timestamp() AS now();
CREATE OR REPLACE MACRO timeofday() AS strftime(now(), '%a %b %d %H:%M:%S.%f %Y UTC');
CREATE OR REPLACE MACRO initcap(str) AS array_to_string(list_transform(regexp_extract_all(str, '[\pL\pN]+|[^\pL\pN]+'), pg_compat_word -> upper(pg_compat_word[1]) || lower(pg_compat_word[2:])), '');
CREATE OR REPLACE MACRO width_bucket(operand, low, high, count) AS (CASE WHEN operand < low THEN 0 WHEN operand >= high THEN count + 1 ELSE floor((operand - low) * count / (high - low)) + 1 END)::INTEGER;
CREATE OR REPLACE MACRO btrim(str) AS trim(str), (str, chars) AS trim(str, chars);
CREATE OR REPLACE MACRO every(condition) AS bool_and(condition);
CREATE OR REPLACE MACRO quote_nullable(val) AS CASE WHEN val IS NULL THEN 'NULL' ELSE quote_literal(val) END;
-- PostgreSQL's prefix operators |/ (square root) and ||/ (cube root): DuckDB's parser reads
-- them as calls of functions named after the operator.
CREATE OR REPLACE MACRO "|/"(x) AS sqrt(x);
CREATE OR REPLACE MACRO "||/"(x) AS cbrt(x);
-- The adapter renames these calls (encode.rs names their columns as PostgreSQL does).
-- octet_length of text counts its UTF-8 bytes (DuckDB's takes only BLOB and BIT), and
-- date_trunc of a date is a timestamptz, as in PostgreSQL (DuckDB's is a timestamp).
CREATE OR REPLACE MACRO pg_compat_octet_length(x VARCHAR) AS strlen(x), (x) AS octet_length(x);
-- PostgreSQL's cardinality of an array: its number of elements (DuckDB's counts a MAP's entries).
CREATE OR REPLACE MACRO pg_compat_cardinality(a) AS len(a);
-- to_char(number, template): the number rounded to `post` decimals (half away from zero, as
-- PostgreSQL rounds a numeric), as its sign and digits: -1234.5 with 2 decimals is '-123450',
-- 0.5 is '+050'. The adapter lays the digits out as the template says (rewrite.rs).
CREATE OR REPLACE MACRO pg_compat_number_text(x, post) AS CASE WHEN x < 0 AND round(abs(x) * ('1' || repeat('0', post))::HUGEINT) > 0 THEN '-' ELSE '+' END || lpad(round(abs(x) * ('1' || repeat('0', post))::HUGEINT)::HUGEINT::VARCHAR, greatest(post + 1, length(round(abs(x) * ('1' || repeat('0', post))::HUGEINT)::HUGEINT::VARCHAR))::INTEGER, '0');
CREATE OR REPLACE MACRO pg_compat_date_trunc(part, x DATE) AS date_trunc(part, x)::TIMESTAMPTZ, (part, x) AS date_trunc(part, x);
-- overlay(str PLACING repl FROM start [FOR len]), which DuckDB's parser turns into these calls.
CREATE OR REPLACE MACRO overlay(str, repl, start) AS substring(str, 1, start - 1) || repl || substring(str, start + length(repl)), (str, repl, start, len) AS substring(str, 1, start - 1) || repl || substring(str, start + len);
-- The pg-adapter answers these as whole statements (SELECT pg_cancel_backend(<pid>)).
CREATE OR REPLACE MACRO pg_cancel_backend(pid) AS error('pg_cancel_backend(pid) is answered by the pg-adapter only as a whole statement: SELECT pg_cancel_backend(<pid>), the pid a literal or a parameter')::BOOLEAN;
CREATE OR REPLACE MACRO pg_terminate_backend(pid) AS error('pg_terminate_backend(pid) is answered by the pg-adapter only as a whole statement: SELECT pg_terminate_backend(<pid>), the pid a literal or a parameter')::BOOLEAN, (pid, timeout) AS error('pg_terminate_backend(pid) is answered by the pg-adapter only as a whole statement: SELECT pg_terminate_backend(<pid>), the pid a literal or a parameter')::BOOLEAN;
-- current_setting(<expression>): the adapter passes the session's settings as a map.
CREATE OR REPLACE MACRO pg_compat_setting(settings, name) AS settings[lower(name)];
-- Session facts the pg-adapter fills in (current_user, current_database(), version()) and
-- expressions it rewrites (extract(...)): the value, under the name PostgreSQL gives the column
-- (encode.rs reads it from the call).
CREATE OR REPLACE MACRO pg_compat_session_value(name, value) AS value;
-- Every object is owned by OID 10, which is the session's own user.
CREATE OR REPLACE MACRO pg_compat_get_userbyid(usr, id) AS CASE WHEN id = 10 THEN usr ELSE 'unknown (OID=' || id || ')' END;
CREATE OR REPLACE MACRO pg_get_userbyid(id) AS pg_compat_get_userbyid(current_user, id);

-- OIDs, names and types --------------------------------------------------------------------------
CREATE OR REPLACE MACRO pg_compat_nsp_oid(nsp) AS (CASE nsp WHEN 'pg_catalog' THEN 11 WHEN 'information_schema' THEN 13000 WHEN 'main' THEN 2200 ELSE 16384 + hash('namespace:' || nsp) % 1000000000 END)::BIGINT;
CREATE OR REPLACE MACRO pg_compat_rel_oid(nsp, rel) AS (16384 + hash('relation:' || nsp || '.' || rel) % 2000000000)::BIGINT;
-- 'a', 'S.a', '"S"."a b"': the last part and the schema part of a possibly qualified name.
CREATE OR REPLACE MACRO pg_compat_ident_part(part) AS CASE WHEN part LIKE '"%"' THEN replace(part[2:-2], '""', '"') ELSE lower(trim(part)) END;
CREATE OR REPLACE MACRO pg_compat_ident_last(name) AS pg_compat_ident_part(string_split(name::VARCHAR, '.')[-1]);
CREATE OR REPLACE MACRO pg_compat_ident_schema(name) AS CASE WHEN len(string_split(name::VARCHAR, '.')) > 1 THEN pg_compat_ident_part(string_split(name::VARCHAR, '.')[-2]) END;
CREATE OR REPLACE MACRO parse_ident(name) AS list_transform(string_split(name::VARCHAR, '.'), pg_compat_part -> pg_compat_ident_part(pg_compat_part)), (name, strict) AS list_transform(string_split(name::VARCHAR, '.'), pg_compat_part -> pg_compat_ident_part(pg_compat_part));
-- The PostgreSQL type of a DuckDB scalar type, as pg-adapter/src/encode.rs presents it.
CREATE OR REPLACE MACRO pg_compat_scalar_type_oid(dt) AS CASE
    WHEN dt = 'BOOLEAN' THEN 16
    WHEN dt IN ('TINYINT', 'SMALLINT', 'UTINYINT') THEN 21
    WHEN dt IN ('INTEGER', 'USMALLINT') THEN 23
    WHEN dt IN ('BIGINT', 'UINTEGER') THEN 20
    WHEN dt IN ('HUGEINT', 'UHUGEINT', 'UBIGINT') OR dt LIKE 'DECIMAL(%' THEN 1700
    WHEN dt = 'FLOAT' THEN 700
    WHEN dt = 'DOUBLE' THEN 701
    WHEN dt = 'VARCHAR' OR dt LIKE 'ENUM(%' THEN 1043
    WHEN dt IN ('BLOB', 'BIT', 'BIGNUM', 'GEOMETRY') THEN 17
    WHEN dt = 'DATE' THEN 1082
    WHEN dt IN ('TIME', 'TIME WITH TIME ZONE', 'TIME_NS') THEN 1083
    WHEN dt IN ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS') THEN 1114
    WHEN dt = 'TIMESTAMP WITH TIME ZONE' THEN 1184
    WHEN dt = 'INTERVAL' THEN 1186
    WHEN dt = 'UUID' THEN 2950
    WHEN dt = 'JSON' THEN 114
    WHEN dt LIKE 'STRUCT(%' OR dt LIKE 'MAP(%' OR dt LIKE 'UNION(%' THEN 114
    ELSE 25 END;
CREATE OR REPLACE MACRO pg_compat_array_oid(elem) AS CASE elem
    WHEN 16 THEN 1000 WHEN 17 THEN 1001 WHEN 20 THEN 1016 WHEN 21 THEN 1005 WHEN 23 THEN 1007
    WHEN 25 THEN 1009 WHEN 700 THEN 1021 WHEN 701 THEN 1022 WHEN 1043 THEN 1015 WHEN 1082 THEN 1182
    WHEN 1083 THEN 1183 WHEN 1114 THEN 1115 WHEN 1184 THEN 1185 WHEN 1186 THEN 1187
    WHEN 1700 THEN 1231 WHEN 2950 THEN 2951 ELSE 114 END;
-- Lists of scalars are PostgreSQL arrays (of strings: text[]), anything nested is json (as in
-- encode.rs).
CREATE OR REPLACE MACRO pg_compat_type_oid(dt) AS (CASE
    WHEN NOT regexp_matches(dt, '\[\d*\]$') THEN pg_compat_scalar_type_oid(dt)
    WHEN regexp_matches(dt, '\[\d*\]\[\d*\]$') THEN 114
    -- Only top-level columns carry their UUID/JSON mark (executor/src/column_types.rs):
    -- inside a list they are plain strings.
    WHEN regexp_replace(dt, '\[\d*\]$', '') IN ('UUID', 'JSON', 'VARCHAR') THEN 1009
    -- Lists of UINTEGER (catalog OIDs) are oid[], as in encode.rs.
    WHEN regexp_replace(dt, '\[\d*\]$', '') = 'UINTEGER' THEN 1028
    ELSE pg_compat_array_oid(pg_compat_scalar_type_oid(regexp_replace(dt, '\[\d*\]$', ''))) END)::BIGINT;
CREATE OR REPLACE MACRO pg_compat_type_mod(dt) AS CASE
    WHEN regexp_matches(dt, '^DECIMAL\(\d+,\d+\)$') THEN ((regexp_extract(dt, '^DECIMAL\((\d+),', 1)::INTEGER << 16) | regexp_extract(dt, ',(\d+)\)$', 1)::INTEGER) + 4
    WHEN dt IN ('HUGEINT', 'UHUGEINT') THEN (38 << 16) + 4
    ELSE -1 END;
-- A lake table is a view over a table function (or, while unreadable, over error(...)).
CREATE OR REPLACE MACRO pg_compat_view_relkind(sql) AS CASE WHEN regexp_matches(sql, '(?is)\bAS\s+SELECT\s+(\*\s+FROM\s+"?(delta_scan|iceberg_scan|read_parquet|parquet_scan|read_csv|read_csv_auto|read_json|read_json_auto|read_ndjson|read_ndjson_auto|read_blob|read_text)"?\s*\(|.*\berror\s*\()') THEN 'r' ELSE 'v' END;

-- GENERATED by pg-adapter/dev/export_pg_catalog.py from PostgreSQL 15.18: begin
CREATE OR REPLACE MACRO pg_compat_pg_type() AS TABLE SELECT oid::BIGINT AS oid, typname, 11::BIGINT AS typnamespace, 10::BIGINT AS typowner, typlen::SMALLINT AS typlen, typbyval, typtype, typcategory, typispreferred, true AS typisdefined, typdelim, 0::BIGINT AS typrelid, typsubscript, typelem::BIGINT AS typelem, typarray::BIGINT AS typarray, typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze, typalign, typstorage, false AS typnotnull, 0::BIGINT AS typbasetype, typtypmod, typndims, typcollation::BIGINT AS typcollation, NULL::VARCHAR AS typdefaultbin, NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl FROM (VALUES
(16,'bool',1,true,'b','B',true,',','-',0,1000,'boolin','boolout','boolrecv','boolsend','-','-','-','c','p',-1,0,0),
(17,'bytea',-1,false,'b','U',false,',','-',0,1001,'byteain','byteaout','bytearecv','byteasend','-','-','-','i','x',-1,0,0),
(18,'char',1,true,'b','Z',false,',','-',0,1002,'charin','charout','charrecv','charsend','-','-','-','c','p',-1,0,0),
(19,'name',64,false,'b','S',false,',','raw_array_subscript_handler',18,1003,'namein','nameout','namerecv','namesend','-','-','-','c','p',-1,0,950),
(20,'int8',8,true,'b','N',false,',','-',0,1016,'int8in','int8out','int8recv','int8send','-','-','-','d','p',-1,0,0),
(21,'int2',2,true,'b','N',false,',','-',0,1005,'int2in','int2out','int2recv','int2send','-','-','-','s','p',-1,0,0),
(22,'int2vector',-1,false,'b','A',false,',','array_subscript_handler',21,1006,'int2vectorin','int2vectorout','int2vectorrecv','int2vectorsend','-','-','-','i','p',-1,0,0),
(23,'int4',4,true,'b','N',false,',','-',0,1007,'int4in','int4out','int4recv','int4send','-','-','-','i','p',-1,0,0),
(24,'regproc',4,true,'b','N',false,',','-',0,1008,'regprocin','regprocout','regprocrecv','regprocsend','-','-','-','i','p',-1,0,0),
(25,'text',-1,false,'b','S',true,',','-',0,1009,'textin','textout','textrecv','textsend','-','-','-','i','x',-1,0,100),
(26,'oid',4,true,'b','N',true,',','-',0,1028,'oidin','oidout','oidrecv','oidsend','-','-','-','i','p',-1,0,0),
(27,'tid',6,false,'b','U',false,',','-',0,1010,'tidin','tidout','tidrecv','tidsend','-','-','-','s','p',-1,0,0),
(28,'xid',4,true,'b','U',false,',','-',0,1011,'xidin','xidout','xidrecv','xidsend','-','-','-','i','p',-1,0,0),
(29,'cid',4,true,'b','U',false,',','-',0,1012,'cidin','cidout','cidrecv','cidsend','-','-','-','i','p',-1,0,0),
(30,'oidvector',-1,false,'b','A',false,',','array_subscript_handler',26,1013,'oidvectorin','oidvectorout','oidvectorrecv','oidvectorsend','-','-','-','i','p',-1,0,0),
(114,'json',-1,false,'b','U',false,',','-',0,199,'json_in','json_out','json_recv','json_send','-','-','-','i','x',-1,0,0),
(142,'xml',-1,false,'b','U',false,',','-',0,143,'xml_in','xml_out','xml_recv','xml_send','-','-','-','i','x',-1,0,0),
(143,'_xml',-1,false,'b','A',false,',','array_subscript_handler',142,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(199,'_json',-1,false,'b','A',false,',','array_subscript_handler',114,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(269,'table_am_handler',4,true,'p','P',false,',','-',0,0,'table_am_handler_in','table_am_handler_out','-','-','-','-','-','i','p',-1,0,0),
(271,'_xid8',-1,false,'b','A',false,',','array_subscript_handler',5069,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(325,'index_am_handler',4,true,'p','P',false,',','-',0,0,'index_am_handler_in','index_am_handler_out','-','-','-','-','-','i','p',-1,0,0),
(600,'point',16,false,'b','G',false,',','raw_array_subscript_handler',701,1017,'point_in','point_out','point_recv','point_send','-','-','-','d','p',-1,0,0),
(601,'lseg',32,false,'b','G',false,',','raw_array_subscript_handler',600,1018,'lseg_in','lseg_out','lseg_recv','lseg_send','-','-','-','d','p',-1,0,0),
(602,'path',-1,false,'b','G',false,',','-',0,1019,'path_in','path_out','path_recv','path_send','-','-','-','d','x',-1,0,0),
(603,'box',32,false,'b','G',false,chr(59),'raw_array_subscript_handler',600,1020,'box_in','box_out','box_recv','box_send','-','-','-','d','p',-1,0,0),
(604,'polygon',-1,false,'b','G',false,',','-',0,1027,'poly_in','poly_out','poly_recv','poly_send','-','-','-','d','x',-1,0,0),
(628,'line',24,false,'b','G',false,',','raw_array_subscript_handler',701,629,'line_in','line_out','line_recv','line_send','-','-','-','d','p',-1,0,0),
(629,'_line',-1,false,'b','A',false,',','array_subscript_handler',628,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(650,'cidr',-1,false,'b','I',false,',','-',0,651,'cidr_in','cidr_out','cidr_recv','cidr_send','-','-','-','i','m',-1,0,0),
(651,'_cidr',-1,false,'b','A',false,',','array_subscript_handler',650,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(700,'float4',4,true,'b','N',false,',','-',0,1021,'float4in','float4out','float4recv','float4send','-','-','-','i','p',-1,0,0),
(701,'float8',8,true,'b','N',true,',','-',0,1022,'float8in','float8out','float8recv','float8send','-','-','-','d','p',-1,0,0),
(705,'unknown',-2,false,'p','X',false,',','-',0,0,'unknownin','unknownout','unknownrecv','unknownsend','-','-','-','c','p',-1,0,0),
(718,'circle',24,false,'b','G',false,',','-',0,719,'circle_in','circle_out','circle_recv','circle_send','-','-','-','d','p',-1,0,0),
(719,'_circle',-1,false,'b','A',false,',','array_subscript_handler',718,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(774,'macaddr8',8,false,'b','U',false,',','-',0,775,'macaddr8_in','macaddr8_out','macaddr8_recv','macaddr8_send','-','-','-','i','p',-1,0,0),
(775,'_macaddr8',-1,false,'b','A',false,',','array_subscript_handler',774,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(790,'money',8,true,'b','N',false,',','-',0,791,'cash_in','cash_out','cash_recv','cash_send','-','-','-','d','p',-1,0,0),
(791,'_money',-1,false,'b','A',false,',','array_subscript_handler',790,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(829,'macaddr',6,false,'b','U',false,',','-',0,1040,'macaddr_in','macaddr_out','macaddr_recv','macaddr_send','-','-','-','i','p',-1,0,0),
(869,'inet',-1,false,'b','I',true,',','-',0,1041,'inet_in','inet_out','inet_recv','inet_send','-','-','-','i','m',-1,0,0),
(1000,'_bool',-1,false,'b','A',false,',','array_subscript_handler',16,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1001,'_bytea',-1,false,'b','A',false,',','array_subscript_handler',17,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1002,'_char',-1,false,'b','A',false,',','array_subscript_handler',18,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1003,'_name',-1,false,'b','A',false,',','array_subscript_handler',19,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,950),
(1005,'_int2',-1,false,'b','A',false,',','array_subscript_handler',21,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1006,'_int2vector',-1,false,'b','A',false,',','array_subscript_handler',22,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1007,'_int4',-1,false,'b','A',false,',','array_subscript_handler',23,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1008,'_regproc',-1,false,'b','A',false,',','array_subscript_handler',24,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1009,'_text',-1,false,'b','A',false,',','array_subscript_handler',25,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,100),
(1010,'_tid',-1,false,'b','A',false,',','array_subscript_handler',27,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1011,'_xid',-1,false,'b','A',false,',','array_subscript_handler',28,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1012,'_cid',-1,false,'b','A',false,',','array_subscript_handler',29,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1013,'_oidvector',-1,false,'b','A',false,',','array_subscript_handler',30,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1014,'_bpchar',-1,false,'b','A',false,',','array_subscript_handler',1042,0,'array_in','array_out','array_recv','array_send','bpchartypmodin','bpchartypmodout','array_typanalyze','i','x',-1,0,100),
(1015,'_varchar',-1,false,'b','A',false,',','array_subscript_handler',1043,0,'array_in','array_out','array_recv','array_send','varchartypmodin','varchartypmodout','array_typanalyze','i','x',-1,0,100),
(1016,'_int8',-1,false,'b','A',false,',','array_subscript_handler',20,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1017,'_point',-1,false,'b','A',false,',','array_subscript_handler',600,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1018,'_lseg',-1,false,'b','A',false,',','array_subscript_handler',601,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1019,'_path',-1,false,'b','A',false,',','array_subscript_handler',602,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1020,'_box',-1,false,'b','A',false,chr(59),'array_subscript_handler',603,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1021,'_float4',-1,false,'b','A',false,',','array_subscript_handler',700,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1022,'_float8',-1,false,'b','A',false,',','array_subscript_handler',701,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1027,'_polygon',-1,false,'b','A',false,',','array_subscript_handler',604,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(1028,'_oid',-1,false,'b','A',false,',','array_subscript_handler',26,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1033,'aclitem',12,false,'b','U',false,',','-',0,1034,'aclitemin','aclitemout','-','-','-','-','-','i','p',-1,0,0),
(1034,'_aclitem',-1,false,'b','A',false,',','array_subscript_handler',1033,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1040,'_macaddr',-1,false,'b','A',false,',','array_subscript_handler',829,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1041,'_inet',-1,false,'b','A',false,',','array_subscript_handler',869,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1042,'bpchar',-1,false,'b','S',false,',','-',0,1014,'bpcharin','bpcharout','bpcharrecv','bpcharsend','bpchartypmodin','bpchartypmodout','-','i','x',-1,0,100),
(1043,'varchar',-1,false,'b','S',false,',','-',0,1015,'varcharin','varcharout','varcharrecv','varcharsend','varchartypmodin','varchartypmodout','-','i','x',-1,0,100),
(1082,'date',4,true,'b','D',false,',','-',0,1182,'date_in','date_out','date_recv','date_send','-','-','-','i','p',-1,0,0),
(1083,'time',8,true,'b','D',false,',','-',0,1183,'time_in','time_out','time_recv','time_send','timetypmodin','timetypmodout','-','d','p',-1,0,0),
(1114,'timestamp',8,true,'b','D',false,',','-',0,1115,'timestamp_in','timestamp_out','timestamp_recv','timestamp_send','timestamptypmodin','timestamptypmodout','-','d','p',-1,0,0),
(1115,'_timestamp',-1,false,'b','A',false,',','array_subscript_handler',1114,0,'array_in','array_out','array_recv','array_send','timestamptypmodin','timestamptypmodout','array_typanalyze','d','x',-1,0,0),
(1182,'_date',-1,false,'b','A',false,',','array_subscript_handler',1082,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1183,'_time',-1,false,'b','A',false,',','array_subscript_handler',1083,0,'array_in','array_out','array_recv','array_send','timetypmodin','timetypmodout','array_typanalyze','d','x',-1,0,0),
(1184,'timestamptz',8,true,'b','D',true,',','-',0,1185,'timestamptz_in','timestamptz_out','timestamptz_recv','timestamptz_send','timestamptztypmodin','timestamptztypmodout','-','d','p',-1,0,0),
(1185,'_timestamptz',-1,false,'b','A',false,',','array_subscript_handler',1184,0,'array_in','array_out','array_recv','array_send','timestamptztypmodin','timestamptztypmodout','array_typanalyze','d','x',-1,0,0),
(1186,'interval',16,false,'b','T',true,',','-',0,1187,'interval_in','interval_out','interval_recv','interval_send','intervaltypmodin','intervaltypmodout','-','d','p',-1,0,0),
(1187,'_interval',-1,false,'b','A',false,',','array_subscript_handler',1186,0,'array_in','array_out','array_recv','array_send','intervaltypmodin','intervaltypmodout','array_typanalyze','d','x',-1,0,0),
(1231,'_numeric',-1,false,'b','A',false,',','array_subscript_handler',1700,0,'array_in','array_out','array_recv','array_send','numerictypmodin','numerictypmodout','array_typanalyze','i','x',-1,0,0),
(1263,'_cstring',-1,false,'b','A',false,',','array_subscript_handler',2275,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(1266,'timetz',12,false,'b','D',false,',','-',0,1270,'timetz_in','timetz_out','timetz_recv','timetz_send','timetztypmodin','timetztypmodout','-','d','p',-1,0,0),
(1270,'_timetz',-1,false,'b','A',false,',','array_subscript_handler',1266,0,'array_in','array_out','array_recv','array_send','timetztypmodin','timetztypmodout','array_typanalyze','d','x',-1,0,0),
(1560,'bit',-1,false,'b','V',false,',','-',0,1561,'bit_in','bit_out','bit_recv','bit_send','bittypmodin','bittypmodout','-','i','x',-1,0,0),
(1561,'_bit',-1,false,'b','A',false,',','array_subscript_handler',1560,0,'array_in','array_out','array_recv','array_send','bittypmodin','bittypmodout','array_typanalyze','i','x',-1,0,0),
(1562,'varbit',-1,false,'b','V',true,',','-',0,1563,'varbit_in','varbit_out','varbit_recv','varbit_send','varbittypmodin','varbittypmodout','-','i','x',-1,0,0),
(1563,'_varbit',-1,false,'b','A',false,',','array_subscript_handler',1562,0,'array_in','array_out','array_recv','array_send','varbittypmodin','varbittypmodout','array_typanalyze','i','x',-1,0,0),
(1700,'numeric',-1,false,'b','N',false,',','-',0,1231,'numeric_in','numeric_out','numeric_recv','numeric_send','numerictypmodin','numerictypmodout','-','i','m',-1,0,0),
(1790,'refcursor',-1,false,'b','U',false,',','-',0,2201,'textin','textout','textrecv','textsend','-','-','-','i','x',-1,0,0),
(2201,'_refcursor',-1,false,'b','A',false,',','array_subscript_handler',1790,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2202,'regprocedure',4,true,'b','N',false,',','-',0,2207,'regprocedurein','regprocedureout','regprocedurerecv','regproceduresend','-','-','-','i','p',-1,0,0),
(2203,'regoper',4,true,'b','N',false,',','-',0,2208,'regoperin','regoperout','regoperrecv','regopersend','-','-','-','i','p',-1,0,0),
(2204,'regoperator',4,true,'b','N',false,',','-',0,2209,'regoperatorin','regoperatorout','regoperatorrecv','regoperatorsend','-','-','-','i','p',-1,0,0),
(2205,'regclass',4,true,'b','N',false,',','-',0,2210,'regclassin','regclassout','regclassrecv','regclasssend','-','-','-','i','p',-1,0,0),
(2206,'regtype',4,true,'b','N',false,',','-',0,2211,'regtypein','regtypeout','regtyperecv','regtypesend','-','-','-','i','p',-1,0,0),
(2207,'_regprocedure',-1,false,'b','A',false,',','array_subscript_handler',2202,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2208,'_regoper',-1,false,'b','A',false,',','array_subscript_handler',2203,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2209,'_regoperator',-1,false,'b','A',false,',','array_subscript_handler',2204,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2210,'_regclass',-1,false,'b','A',false,',','array_subscript_handler',2205,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2211,'_regtype',-1,false,'b','A',false,',','array_subscript_handler',2206,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2249,'record',-1,false,'p','P',false,',','-',0,2287,'record_in','record_out','record_recv','record_send','-','-','-','d','x',-1,0,0),
(2275,'cstring',-2,false,'p','P',false,',','-',0,1263,'cstring_in','cstring_out','cstring_recv','cstring_send','-','-','-','c','p',-1,0,0),
(2276,'any',4,true,'p','P',false,',','-',0,0,'any_in','any_out','-','-','-','-','-','i','p',-1,0,0),
(2277,'anyarray',-1,false,'p','P',false,',','-',0,0,'anyarray_in','anyarray_out','anyarray_recv','anyarray_send','-','-','-','d','x',-1,0,0),
(2278,'void',4,true,'p','P',false,',','-',0,0,'void_in','void_out','void_recv','void_send','-','-','-','i','p',-1,0,0),
(2279,'trigger',4,true,'p','P',false,',','-',0,0,'trigger_in','trigger_out','-','-','-','-','-','i','p',-1,0,0),
(2280,'language_handler',4,true,'p','P',false,',','-',0,0,'language_handler_in','language_handler_out','-','-','-','-','-','i','p',-1,0,0),
(2281,'internal',8,true,'p','P',false,',','-',0,0,'internal_in','internal_out','-','-','-','-','-','d','p',-1,0,0),
(2283,'anyelement',4,true,'p','P',false,',','-',0,0,'anyelement_in','anyelement_out','-','-','-','-','-','i','p',-1,0,0),
(2287,'_record',-1,false,'p','P',false,',','array_subscript_handler',2249,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(2776,'anynonarray',4,true,'p','P',false,',','-',0,0,'anynonarray_in','anynonarray_out','-','-','-','-','-','i','p',-1,0,0),
(2949,'_txid_snapshot',-1,false,'b','A',false,',','array_subscript_handler',2970,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(2950,'uuid',16,false,'b','U',false,',','-',0,2951,'uuid_in','uuid_out','uuid_recv','uuid_send','-','-','-','c','p',-1,0,0),
(2951,'_uuid',-1,false,'b','A',false,',','array_subscript_handler',2950,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(2970,'txid_snapshot',-1,false,'b','U',false,',','-',0,2949,'txid_snapshot_in','txid_snapshot_out','txid_snapshot_recv','txid_snapshot_send','-','-','-','d','x',-1,0,0),
(3115,'fdw_handler',4,true,'p','P',false,',','-',0,0,'fdw_handler_in','fdw_handler_out','-','-','-','-','-','i','p',-1,0,0),
(3310,'tsm_handler',4,true,'p','P',false,',','-',0,0,'tsm_handler_in','tsm_handler_out','-','-','-','-','-','i','p',-1,0,0),
(3500,'anyenum',4,true,'p','P',false,',','-',0,0,'anyenum_in','anyenum_out','-','-','-','-','-','i','p',-1,0,0),
(3614,'tsvector',-1,false,'b','U',false,',','-',0,3643,'tsvectorin','tsvectorout','tsvectorrecv','tsvectorsend','-','-','ts_typanalyze','i','x',-1,0,0),
(3615,'tsquery',-1,false,'b','U',false,',','-',0,3645,'tsqueryin','tsqueryout','tsqueryrecv','tsquerysend','-','-','-','i','p',-1,0,0),
(3642,'gtsvector',-1,false,'b','U',false,',','-',0,3644,'gtsvectorin','gtsvectorout','-','-','-','-','-','i','p',-1,0,0),
(3643,'_tsvector',-1,false,'b','A',false,',','array_subscript_handler',3614,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3644,'_gtsvector',-1,false,'b','A',false,',','array_subscript_handler',3642,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3645,'_tsquery',-1,false,'b','A',false,',','array_subscript_handler',3615,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3734,'regconfig',4,true,'b','N',false,',','-',0,3735,'regconfigin','regconfigout','regconfigrecv','regconfigsend','-','-','-','i','p',-1,0,0),
(3735,'_regconfig',-1,false,'b','A',false,',','array_subscript_handler',3734,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3769,'regdictionary',4,true,'b','N',false,',','-',0,3770,'regdictionaryin','regdictionaryout','regdictionaryrecv','regdictionarysend','-','-','-','i','p',-1,0,0),
(3770,'_regdictionary',-1,false,'b','A',false,',','array_subscript_handler',3769,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3802,'jsonb',-1,false,'b','U',false,',','jsonb_subscript_handler',0,3807,'jsonb_in','jsonb_out','jsonb_recv','jsonb_send','-','-','-','i','x',-1,0,0),
(3807,'_jsonb',-1,false,'b','A',false,',','array_subscript_handler',3802,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3831,'anyrange',-1,false,'p','P',false,',','-',0,0,'anyrange_in','anyrange_out','-','-','-','-','-','d','x',-1,0,0),
(3838,'event_trigger',4,true,'p','P',false,',','-',0,0,'event_trigger_in','event_trigger_out','-','-','-','-','-','i','p',-1,0,0),
(3904,'int4range',-1,false,'r','R',false,',','-',0,3905,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','i','x',-1,0,0),
(3905,'_int4range',-1,false,'b','A',false,',','array_subscript_handler',3904,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3906,'numrange',-1,false,'r','R',false,',','-',0,3907,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','i','x',-1,0,0),
(3907,'_numrange',-1,false,'b','A',false,',','array_subscript_handler',3906,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3908,'tsrange',-1,false,'r','R',false,',','-',0,3909,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','d','x',-1,0,0),
(3909,'_tsrange',-1,false,'b','A',false,',','array_subscript_handler',3908,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(3910,'tstzrange',-1,false,'r','R',false,',','-',0,3911,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','d','x',-1,0,0),
(3911,'_tstzrange',-1,false,'b','A',false,',','array_subscript_handler',3910,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(3912,'daterange',-1,false,'r','R',false,',','-',0,3913,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','i','x',-1,0,0),
(3913,'_daterange',-1,false,'b','A',false,',','array_subscript_handler',3912,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(3926,'int8range',-1,false,'r','R',false,',','-',0,3927,'range_in','range_out','range_recv','range_send','-','-','range_typanalyze','d','x',-1,0,0),
(3927,'_int8range',-1,false,'b','A',false,',','array_subscript_handler',3926,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(4072,'jsonpath',-1,false,'b','U',false,',','-',0,4073,'jsonpath_in','jsonpath_out','jsonpath_recv','jsonpath_send','-','-','-','i','x',-1,0,0),
(4073,'_jsonpath',-1,false,'b','A',false,',','array_subscript_handler',4072,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(4089,'regnamespace',4,true,'b','N',false,',','-',0,4090,'regnamespacein','regnamespaceout','regnamespacerecv','regnamespacesend','-','-','-','i','p',-1,0,0),
(4090,'_regnamespace',-1,false,'b','A',false,',','array_subscript_handler',4089,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(4096,'regrole',4,true,'b','N',false,',','-',0,4097,'regrolein','regroleout','regrolerecv','regrolesend','-','-','-','i','p',-1,0,0),
(4097,'_regrole',-1,false,'b','A',false,',','array_subscript_handler',4096,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(4191,'regcollation',4,true,'b','N',false,',','-',0,4192,'regcollationin','regcollationout','regcollationrecv','regcollationsend','-','-','-','i','p',-1,0,0),
(4192,'_regcollation',-1,false,'b','A',false,',','array_subscript_handler',4191,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(4451,'int4multirange',-1,false,'m','R',false,',','-',0,6150,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','i','x',-1,0,0),
(4532,'nummultirange',-1,false,'m','R',false,',','-',0,6151,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','i','x',-1,0,0),
(4533,'tsmultirange',-1,false,'m','R',false,',','-',0,6152,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','d','x',-1,0,0),
(4534,'tstzmultirange',-1,false,'m','R',false,',','-',0,6153,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','d','x',-1,0,0),
(4535,'datemultirange',-1,false,'m','R',false,',','-',0,6155,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','i','x',-1,0,0),
(4536,'int8multirange',-1,false,'m','R',false,',','-',0,6157,'multirange_in','multirange_out','multirange_recv','multirange_send','-','-','multirange_typanalyze','d','x',-1,0,0),
(4537,'anymultirange',-1,false,'p','P',false,',','-',0,0,'anymultirange_in','anymultirange_out','-','-','-','-','-','d','x',-1,0,0),
(4538,'anycompatiblemultirange',-1,false,'p','P',false,',','-',0,0,'anycompatiblemultirange_in','anycompatiblemultirange_out','-','-','-','-','-','d','x',-1,0,0),
(5069,'xid8',8,true,'b','U',false,',','-',0,271,'xid8in','xid8out','xid8recv','xid8send','-','-','-','d','p',-1,0,0),
(5077,'anycompatible',4,true,'p','P',false,',','-',0,0,'anycompatible_in','anycompatible_out','-','-','-','-','-','i','p',-1,0,0),
(5078,'anycompatiblearray',-1,false,'p','P',false,',','-',0,0,'anycompatiblearray_in','anycompatiblearray_out','anycompatiblearray_recv','anycompatiblearray_send','-','-','-','d','x',-1,0,0),
(5079,'anycompatiblenonarray',4,true,'p','P',false,',','-',0,0,'anycompatiblenonarray_in','anycompatiblenonarray_out','-','-','-','-','-','i','p',-1,0,0),
(5080,'anycompatiblerange',-1,false,'p','P',false,',','-',0,0,'anycompatiblerange_in','anycompatiblerange_out','-','-','-','-','-','d','x',-1,0,0),
(6150,'_int4multirange',-1,false,'b','A',false,',','array_subscript_handler',4451,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(6151,'_nummultirange',-1,false,'b','A',false,',','array_subscript_handler',4532,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(6152,'_tsmultirange',-1,false,'b','A',false,',','array_subscript_handler',4533,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(6153,'_tstzmultirange',-1,false,'b','A',false,',','array_subscript_handler',4534,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0),
(6155,'_datemultirange',-1,false,'b','A',false,',','array_subscript_handler',4535,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','i','x',-1,0,0),
(6157,'_int8multirange',-1,false,'b','A',false,',','array_subscript_handler',4536,0,'array_in','array_out','array_recv','array_send','-','-','array_typanalyze','d','x',-1,0,0)
) t(oid, typname, typlen, typbyval, typtype, typcategory, typispreferred, typdelim, typsubscript, typelem, typarray, typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze, typalign, typstorage, typtypmod, typndims, typcollation);
CREATE OR REPLACE MACRO pg_compat_pg_aggregate() AS TABLE SELECT NULL::VARCHAR AS "aggfnoid", NULL::VARCHAR AS "aggkind", NULL::SMALLINT AS "aggnumdirectargs", NULL::VARCHAR AS "aggtransfn", NULL::VARCHAR AS "aggfinalfn", NULL::VARCHAR AS "aggcombinefn", NULL::VARCHAR AS "aggserialfn", NULL::VARCHAR AS "aggdeserialfn", NULL::VARCHAR AS "aggmtransfn", NULL::VARCHAR AS "aggminvtransfn", NULL::VARCHAR AS "aggmfinalfn", NULL::BOOLEAN AS "aggfinalextra", NULL::BOOLEAN AS "aggmfinalextra", NULL::VARCHAR AS "aggfinalmodify", NULL::VARCHAR AS "aggmfinalmodify", NULL::BIGINT AS "aggsortop", NULL::BIGINT AS "aggtranstype", NULL::INTEGER AS "aggtransspace", NULL::BIGINT AS "aggmtranstype", NULL::INTEGER AS "aggmtransspace", NULL::VARCHAR AS "agginitval", NULL::VARCHAR AS "aggminitval", 2600::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_amop() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "amopfamily", NULL::BIGINT AS "amoplefttype", NULL::BIGINT AS "amoprighttype", NULL::SMALLINT AS "amopstrategy", NULL::VARCHAR AS "amoppurpose", NULL::BIGINT AS "amopopr", NULL::BIGINT AS "amopmethod", NULL::BIGINT AS "amopsortfamily", 2602::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_amproc() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "amprocfamily", NULL::BIGINT AS "amproclefttype", NULL::BIGINT AS "amprocrighttype", NULL::SMALLINT AS "amprocnum", NULL::VARCHAR AS "amproc", 2603::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_auth_members() AS TABLE SELECT NULL::BIGINT AS "roleid", NULL::BIGINT AS "member", NULL::BIGINT AS "grantor", NULL::BOOLEAN AS "admin_option", 1261::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_available_extensions() AS TABLE SELECT NULL::VARCHAR AS "name", NULL::VARCHAR AS "default_version", NULL::VARCHAR AS "installed_version", NULL::VARCHAR AS "comment" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_cast() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "castsource", NULL::BIGINT AS "casttarget", NULL::BIGINT AS "castfunc", NULL::VARCHAR AS "castcontext", NULL::VARCHAR AS "castmethod", 2605::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_constraint() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "conname", NULL::BIGINT AS "connamespace", NULL::VARCHAR AS "contype", NULL::BOOLEAN AS "condeferrable", NULL::BOOLEAN AS "condeferred", NULL::BOOLEAN AS "convalidated", NULL::BIGINT AS "conrelid", NULL::BIGINT AS "contypid", NULL::BIGINT AS "conindid", NULL::BIGINT AS "conparentid", NULL::BIGINT AS "confrelid", NULL::VARCHAR AS "confupdtype", NULL::VARCHAR AS "confdeltype", NULL::VARCHAR AS "confmatchtype", NULL::BOOLEAN AS "conislocal", NULL::INTEGER AS "coninhcount", NULL::BOOLEAN AS "connoinherit", NULL::SMALLINT[] AS "conkey", NULL::SMALLINT[] AS "confkey", NULL::BIGINT[] AS "conpfeqop", NULL::BIGINT[] AS "conppeqop", NULL::BIGINT[] AS "conffeqop", NULL::SMALLINT[] AS "confdelsetcols", NULL::BIGINT[] AS "conexclop", NULL::VARCHAR AS "conbin", 2606::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_conversion() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "conname", NULL::BIGINT AS "connamespace", NULL::BIGINT AS "conowner", NULL::INTEGER AS "conforencoding", NULL::INTEGER AS "contoencoding", NULL::VARCHAR AS "conproc", NULL::BOOLEAN AS "condefault", 2607::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_db_role_setting() AS TABLE SELECT NULL::BIGINT AS "setdatabase", NULL::BIGINT AS "setrole", NULL::VARCHAR[] AS "setconfig", 2964::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_default_acl() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "defaclrole", NULL::BIGINT AS "defaclnamespace", NULL::VARCHAR AS "defaclobjtype", NULL::VARCHAR[] AS "defaclacl", 826::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_depend() AS TABLE SELECT NULL::BIGINT AS "classid", NULL::BIGINT AS "objid", NULL::INTEGER AS "objsubid", NULL::BIGINT AS "refclassid", NULL::BIGINT AS "refobjid", NULL::INTEGER AS "refobjsubid", NULL::VARCHAR AS "deptype", 2608::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_enum() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "enumtypid", NULL::FLOAT AS "enumsortorder", NULL::VARCHAR AS "enumlabel", 3501::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_event_trigger() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "evtname", NULL::VARCHAR AS "evtevent", NULL::BIGINT AS "evtowner", NULL::BIGINT AS "evtfoid", NULL::VARCHAR AS "evtenabled", NULL::VARCHAR[] AS "evttags", 3466::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_extension() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "extname", NULL::BIGINT AS "extowner", NULL::BIGINT AS "extnamespace", NULL::BOOLEAN AS "extrelocatable", NULL::VARCHAR AS "extversion", NULL::BIGINT[] AS "extconfig", NULL::VARCHAR[] AS "extcondition", 3079::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_file_settings() AS TABLE SELECT NULL::VARCHAR AS "sourcefile", NULL::INTEGER AS "sourceline", NULL::INTEGER AS "seqno", NULL::VARCHAR AS "name", NULL::VARCHAR AS "setting", NULL::BOOLEAN AS "applied", NULL::VARCHAR AS "error" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_foreign_data_wrapper() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "fdwname", NULL::BIGINT AS "fdwowner", NULL::BIGINT AS "fdwhandler", NULL::BIGINT AS "fdwvalidator", NULL::VARCHAR[] AS "fdwacl", NULL::VARCHAR[] AS "fdwoptions", 2328::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_foreign_server() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "srvname", NULL::BIGINT AS "srvowner", NULL::BIGINT AS "srvfdw", NULL::VARCHAR AS "srvtype", NULL::VARCHAR AS "srvversion", NULL::VARCHAR[] AS "srvacl", NULL::VARCHAR[] AS "srvoptions", 1417::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_foreign_table() AS TABLE SELECT NULL::BIGINT AS "ftrelid", NULL::BIGINT AS "ftserver", NULL::VARCHAR[] AS "ftoptions", 3118::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_index() AS TABLE SELECT NULL::BIGINT AS "indexrelid", NULL::BIGINT AS "indrelid", NULL::SMALLINT AS "indnatts", NULL::SMALLINT AS "indnkeyatts", NULL::BOOLEAN AS "indisunique", NULL::BOOLEAN AS "indnullsnotdistinct", NULL::BOOLEAN AS "indisprimary", NULL::BOOLEAN AS "indisexclusion", NULL::BOOLEAN AS "indimmediate", NULL::BOOLEAN AS "indisclustered", NULL::BOOLEAN AS "indisvalid", NULL::BOOLEAN AS "indcheckxmin", NULL::BOOLEAN AS "indisready", NULL::BOOLEAN AS "indislive", NULL::BOOLEAN AS "indisreplident", NULL::SMALLINT[] AS "indkey", NULL::BIGINT[] AS "indcollation", NULL::BIGINT[] AS "indclass", NULL::SMALLINT[] AS "indoption", NULL::VARCHAR AS "indexprs", NULL::VARCHAR AS "indpred", 2610::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_indexes() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "tablename", NULL::VARCHAR AS "indexname", NULL::VARCHAR AS "tablespace", NULL::VARCHAR AS "indexdef" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_inherits() AS TABLE SELECT NULL::BIGINT AS "inhrelid", NULL::BIGINT AS "inhparent", NULL::INTEGER AS "inhseqno", NULL::BOOLEAN AS "inhdetachpending", 2611::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_init_privs() AS TABLE SELECT NULL::BIGINT AS "objoid", NULL::BIGINT AS "classoid", NULL::INTEGER AS "objsubid", NULL::VARCHAR AS "privtype", NULL::VARCHAR[] AS "initprivs", 3394::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_language() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "lanname", NULL::BIGINT AS "lanowner", NULL::BOOLEAN AS "lanispl", NULL::BOOLEAN AS "lanpltrusted", NULL::BIGINT AS "lanplcallfoid", NULL::BIGINT AS "laninline", NULL::BIGINT AS "lanvalidator", NULL::VARCHAR[] AS "lanacl", 2612::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_largeobject_metadata() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "lomowner", NULL::VARCHAR[] AS "lomacl", 2995::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_locks() AS TABLE SELECT NULL::VARCHAR AS "locktype", NULL::BIGINT AS "database", NULL::BIGINT AS "relation", NULL::INTEGER AS "page", NULL::SMALLINT AS "tuple", NULL::VARCHAR AS "virtualxid", NULL::BIGINT AS "transactionid", NULL::BIGINT AS "classid", NULL::BIGINT AS "objid", NULL::SMALLINT AS "objsubid", NULL::VARCHAR AS "virtualtransaction", NULL::INTEGER AS "pid", NULL::VARCHAR AS "mode", NULL::BOOLEAN AS "granted", NULL::BOOLEAN AS "fastpath", NULL::TIMESTAMPTZ AS "waitstart" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_matviews() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "matviewname", NULL::VARCHAR AS "matviewowner", NULL::VARCHAR AS "tablespace", NULL::BOOLEAN AS "hasindexes", NULL::BOOLEAN AS "ispopulated", NULL::VARCHAR AS "definition" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_opclass() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "opcmethod", NULL::VARCHAR AS "opcname", NULL::BIGINT AS "opcnamespace", NULL::BIGINT AS "opcowner", NULL::BIGINT AS "opcfamily", NULL::BIGINT AS "opcintype", NULL::BOOLEAN AS "opcdefault", NULL::BIGINT AS "opckeytype", 2616::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_operator() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "oprname", NULL::BIGINT AS "oprnamespace", NULL::BIGINT AS "oprowner", NULL::VARCHAR AS "oprkind", NULL::BOOLEAN AS "oprcanmerge", NULL::BOOLEAN AS "oprcanhash", NULL::BIGINT AS "oprleft", NULL::BIGINT AS "oprright", NULL::BIGINT AS "oprresult", NULL::BIGINT AS "oprcom", NULL::BIGINT AS "oprnegate", NULL::VARCHAR AS "oprcode", NULL::VARCHAR AS "oprrest", NULL::VARCHAR AS "oprjoin", 2617::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_opfamily() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "opfmethod", NULL::VARCHAR AS "opfname", NULL::BIGINT AS "opfnamespace", NULL::BIGINT AS "opfowner", 2753::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_partitioned_table() AS TABLE SELECT NULL::BIGINT AS "partrelid", NULL::VARCHAR AS "partstrat", NULL::SMALLINT AS "partnatts", NULL::BIGINT AS "partdefid", NULL::SMALLINT[] AS "partattrs", NULL::BIGINT[] AS "partclass", NULL::BIGINT[] AS "partcollation", NULL::VARCHAR AS "partexprs", 3350::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_policies() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "tablename", NULL::VARCHAR AS "policyname", NULL::VARCHAR AS "permissive", NULL::VARCHAR[] AS "roles", NULL::VARCHAR AS "cmd", NULL::VARCHAR AS "qual", NULL::VARCHAR AS "with_check" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_policy() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "polname", NULL::BIGINT AS "polrelid", NULL::VARCHAR AS "polcmd", NULL::BOOLEAN AS "polpermissive", NULL::BIGINT[] AS "polroles", NULL::VARCHAR AS "polqual", NULL::VARCHAR AS "polwithcheck", 3256::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_prepared_statements() AS TABLE SELECT NULL::VARCHAR AS "name", NULL::VARCHAR AS "statement", NULL::TIMESTAMPTZ AS "prepare_time", NULL::BIGINT[] AS "parameter_types", NULL::BOOLEAN AS "from_sql", NULL::BIGINT AS "generic_plans", NULL::BIGINT AS "custom_plans" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_proc() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "proname", NULL::BIGINT AS "pronamespace", NULL::BIGINT AS "proowner", NULL::BIGINT AS "prolang", NULL::FLOAT AS "procost", NULL::FLOAT AS "prorows", NULL::BIGINT AS "provariadic", NULL::VARCHAR AS "prosupport", NULL::VARCHAR AS "prokind", NULL::BOOLEAN AS "prosecdef", NULL::BOOLEAN AS "proleakproof", NULL::BOOLEAN AS "proisstrict", NULL::BOOLEAN AS "proretset", NULL::VARCHAR AS "provolatile", NULL::VARCHAR AS "proparallel", NULL::SMALLINT AS "pronargs", NULL::SMALLINT AS "pronargdefaults", NULL::BIGINT AS "prorettype", NULL::BIGINT[] AS "proargtypes", NULL::BIGINT[] AS "proallargtypes", NULL::VARCHAR[] AS "proargmodes", NULL::VARCHAR[] AS "proargnames", NULL::VARCHAR AS "proargdefaults", NULL::BIGINT[] AS "protrftypes", NULL::VARCHAR AS "prosrc", NULL::VARCHAR AS "probin", NULL::VARCHAR AS "prosqlbody", NULL::VARCHAR[] AS "proconfig", NULL::VARCHAR[] AS "proacl", 1255::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_publication() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "pubname", NULL::BIGINT AS "pubowner", NULL::BOOLEAN AS "puballtables", NULL::BOOLEAN AS "pubinsert", NULL::BOOLEAN AS "pubupdate", NULL::BOOLEAN AS "pubdelete", NULL::BOOLEAN AS "pubtruncate", NULL::BOOLEAN AS "pubviaroot", 6104::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_publication_namespace() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "pnpubid", NULL::BIGINT AS "pnnspid", 6237::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_publication_rel() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "prpubid", NULL::BIGINT AS "prrelid", NULL::VARCHAR AS "prqual", NULL::SMALLINT[] AS "prattrs", 6106::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_range() AS TABLE SELECT NULL::BIGINT AS "rngtypid", NULL::BIGINT AS "rngsubtype", NULL::BIGINT AS "rngmultitypid", NULL::BIGINT AS "rngcollation", NULL::BIGINT AS "rngsubopc", NULL::VARCHAR AS "rngcanonical", NULL::VARCHAR AS "rngsubdiff", 3541::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_replication_slots() AS TABLE SELECT NULL::VARCHAR AS "slot_name", NULL::VARCHAR AS "plugin", NULL::VARCHAR AS "slot_type", NULL::BIGINT AS "datoid", NULL::VARCHAR AS "database", NULL::BOOLEAN AS "temporary", NULL::BOOLEAN AS "active", NULL::INTEGER AS "active_pid", NULL::BIGINT AS "xmin", NULL::BIGINT AS "catalog_xmin", NULL::VARCHAR AS "restart_lsn", NULL::VARCHAR AS "confirmed_flush_lsn", NULL::VARCHAR AS "wal_status", NULL::BIGINT AS "safe_wal_size", NULL::BOOLEAN AS "two_phase" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_rewrite() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "rulename", NULL::BIGINT AS "ev_class", NULL::VARCHAR AS "ev_type", NULL::VARCHAR AS "ev_enabled", NULL::BOOLEAN AS "is_instead", NULL::VARCHAR AS "ev_qual", NULL::VARCHAR AS "ev_action", 2618::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_rules() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "tablename", NULL::VARCHAR AS "rulename", NULL::VARCHAR AS "definition" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_seclabel() AS TABLE SELECT NULL::BIGINT AS "objoid", NULL::BIGINT AS "classoid", NULL::INTEGER AS "objsubid", NULL::VARCHAR AS "provider", NULL::VARCHAR AS "label", 3596::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_sequence() AS TABLE SELECT NULL::BIGINT AS "seqrelid", NULL::BIGINT AS "seqtypid", NULL::BIGINT AS "seqstart", NULL::BIGINT AS "seqincrement", NULL::BIGINT AS "seqmax", NULL::BIGINT AS "seqmin", NULL::BIGINT AS "seqcache", NULL::BOOLEAN AS "seqcycle", 2224::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_sequences() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "sequencename", NULL::VARCHAR AS "sequenceowner", NULL::BIGINT AS "data_type", NULL::BIGINT AS "start_value", NULL::BIGINT AS "min_value", NULL::BIGINT AS "max_value", NULL::BIGINT AS "increment_by", NULL::BOOLEAN AS "cycle", NULL::BIGINT AS "cache_size", NULL::BIGINT AS "last_value" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_shdescription() AS TABLE SELECT NULL::BIGINT AS "objoid", NULL::BIGINT AS "classoid", NULL::VARCHAR AS "description", 2396::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_activity() AS TABLE SELECT NULL::BIGINT AS "datid", NULL::VARCHAR AS "datname", NULL::INTEGER AS "pid", NULL::INTEGER AS "leader_pid", NULL::BIGINT AS "usesysid", NULL::VARCHAR AS "usename", NULL::VARCHAR AS "application_name", NULL::VARCHAR AS "client_addr", NULL::VARCHAR AS "client_hostname", NULL::INTEGER AS "client_port", NULL::TIMESTAMPTZ AS "backend_start", NULL::TIMESTAMPTZ AS "xact_start", NULL::TIMESTAMPTZ AS "query_start", NULL::TIMESTAMPTZ AS "state_change", NULL::VARCHAR AS "wait_event_type", NULL::VARCHAR AS "wait_event", NULL::VARCHAR AS "state", NULL::BIGINT AS "backend_xid", NULL::BIGINT AS "backend_xmin", NULL::BIGINT AS "query_id", NULL::VARCHAR AS "query", NULL::VARCHAR AS "backend_type" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_all_tables() AS TABLE SELECT NULL::BIGINT AS "relid", NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "relname", NULL::BIGINT AS "seq_scan", NULL::BIGINT AS "seq_tup_read", NULL::BIGINT AS "idx_scan", NULL::BIGINT AS "idx_tup_fetch", NULL::BIGINT AS "n_tup_ins", NULL::BIGINT AS "n_tup_upd", NULL::BIGINT AS "n_tup_del", NULL::BIGINT AS "n_tup_hot_upd", NULL::BIGINT AS "n_live_tup", NULL::BIGINT AS "n_dead_tup", NULL::BIGINT AS "n_mod_since_analyze", NULL::BIGINT AS "n_ins_since_vacuum", NULL::TIMESTAMPTZ AS "last_vacuum", NULL::TIMESTAMPTZ AS "last_autovacuum", NULL::TIMESTAMPTZ AS "last_analyze", NULL::TIMESTAMPTZ AS "last_autoanalyze", NULL::BIGINT AS "vacuum_count", NULL::BIGINT AS "autovacuum_count", NULL::BIGINT AS "analyze_count", NULL::BIGINT AS "autoanalyze_count" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_database() AS TABLE SELECT NULL::BIGINT AS "datid", NULL::VARCHAR AS "datname", NULL::INTEGER AS "numbackends", NULL::BIGINT AS "xact_commit", NULL::BIGINT AS "xact_rollback", NULL::BIGINT AS "blks_read", NULL::BIGINT AS "blks_hit", NULL::BIGINT AS "tup_returned", NULL::BIGINT AS "tup_fetched", NULL::BIGINT AS "tup_inserted", NULL::BIGINT AS "tup_updated", NULL::BIGINT AS "tup_deleted", NULL::BIGINT AS "conflicts", NULL::BIGINT AS "temp_files", NULL::BIGINT AS "temp_bytes", NULL::BIGINT AS "deadlocks", NULL::BIGINT AS "checksum_failures", NULL::TIMESTAMPTZ AS "checksum_last_failure", NULL::DOUBLE AS "blk_read_time", NULL::DOUBLE AS "blk_write_time", NULL::DOUBLE AS "session_time", NULL::DOUBLE AS "active_time", NULL::DOUBLE AS "idle_in_transaction_time", NULL::BIGINT AS "sessions", NULL::BIGINT AS "sessions_abandoned", NULL::BIGINT AS "sessions_fatal", NULL::BIGINT AS "sessions_killed", NULL::TIMESTAMPTZ AS "stats_reset" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_replication() AS TABLE SELECT NULL::INTEGER AS "pid", NULL::BIGINT AS "usesysid", NULL::VARCHAR AS "usename", NULL::VARCHAR AS "application_name", NULL::VARCHAR AS "client_addr", NULL::VARCHAR AS "client_hostname", NULL::INTEGER AS "client_port", NULL::TIMESTAMPTZ AS "backend_start", NULL::BIGINT AS "backend_xmin", NULL::VARCHAR AS "state", NULL::VARCHAR AS "sent_lsn", NULL::VARCHAR AS "write_lsn", NULL::VARCHAR AS "flush_lsn", NULL::VARCHAR AS "replay_lsn", NULL::INTERVAL AS "write_lag", NULL::INTERVAL AS "flush_lag", NULL::INTERVAL AS "replay_lag", NULL::INTEGER AS "sync_priority", NULL::VARCHAR AS "sync_state", NULL::TIMESTAMPTZ AS "reply_time" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_ssl() AS TABLE SELECT NULL::INTEGER AS "pid", NULL::BOOLEAN AS "ssl", NULL::VARCHAR AS "version", NULL::VARCHAR AS "cipher", NULL::INTEGER AS "bits", NULL::VARCHAR AS "client_dn", NULL::DECIMAL(38,10) AS "client_serial", NULL::VARCHAR AS "issuer_dn" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_user_indexes() AS TABLE SELECT NULL::BIGINT AS "relid", NULL::BIGINT AS "indexrelid", NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "relname", NULL::VARCHAR AS "indexrelname", NULL::BIGINT AS "idx_scan", NULL::BIGINT AS "idx_tup_read", NULL::BIGINT AS "idx_tup_fetch" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stat_user_tables() AS TABLE SELECT NULL::BIGINT AS "relid", NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "relname", NULL::BIGINT AS "seq_scan", NULL::BIGINT AS "seq_tup_read", NULL::BIGINT AS "idx_scan", NULL::BIGINT AS "idx_tup_fetch", NULL::BIGINT AS "n_tup_ins", NULL::BIGINT AS "n_tup_upd", NULL::BIGINT AS "n_tup_del", NULL::BIGINT AS "n_tup_hot_upd", NULL::BIGINT AS "n_live_tup", NULL::BIGINT AS "n_dead_tup", NULL::BIGINT AS "n_mod_since_analyze", NULL::BIGINT AS "n_ins_since_vacuum", NULL::TIMESTAMPTZ AS "last_vacuum", NULL::TIMESTAMPTZ AS "last_autovacuum", NULL::TIMESTAMPTZ AS "last_analyze", NULL::TIMESTAMPTZ AS "last_autoanalyze", NULL::BIGINT AS "vacuum_count", NULL::BIGINT AS "autovacuum_count", NULL::BIGINT AS "analyze_count", NULL::BIGINT AS "autoanalyze_count" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_statio_user_indexes() AS TABLE SELECT NULL::BIGINT AS "relid", NULL::BIGINT AS "indexrelid", NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "relname", NULL::VARCHAR AS "indexrelname", NULL::BIGINT AS "idx_blks_read", NULL::BIGINT AS "idx_blks_hit" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_statio_user_tables() AS TABLE SELECT NULL::BIGINT AS "relid", NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "relname", NULL::BIGINT AS "heap_blks_read", NULL::BIGINT AS "heap_blks_hit", NULL::BIGINT AS "idx_blks_read", NULL::BIGINT AS "idx_blks_hit", NULL::BIGINT AS "toast_blks_read", NULL::BIGINT AS "toast_blks_hit", NULL::BIGINT AS "tidx_blks_read", NULL::BIGINT AS "tidx_blks_hit" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_statistic_ext() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "stxrelid", NULL::VARCHAR AS "stxname", NULL::BIGINT AS "stxnamespace", NULL::BIGINT AS "stxowner", NULL::INTEGER AS "stxstattarget", NULL::SMALLINT[] AS "stxkeys", NULL::VARCHAR[] AS "stxkind", NULL::VARCHAR AS "stxexprs", 3381::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_stats() AS TABLE SELECT NULL::VARCHAR AS "schemaname", NULL::VARCHAR AS "tablename", NULL::VARCHAR AS "attname", NULL::BOOLEAN AS "inherited", NULL::FLOAT AS "null_frac", NULL::INTEGER AS "avg_width", NULL::FLOAT AS "n_distinct", NULL::VARCHAR[] AS "most_common_vals", NULL::FLOAT[] AS "most_common_freqs", NULL::VARCHAR[] AS "histogram_bounds", NULL::FLOAT AS "correlation", NULL::VARCHAR[] AS "most_common_elems", NULL::FLOAT[] AS "most_common_elem_freqs", NULL::FLOAT[] AS "elem_count_histogram" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_subscription() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "subdbid", NULL::VARCHAR AS "subskiplsn", NULL::VARCHAR AS "subname", NULL::BIGINT AS "subowner", NULL::BOOLEAN AS "subenabled", NULL::BOOLEAN AS "subbinary", NULL::BOOLEAN AS "substream", NULL::VARCHAR AS "subtwophasestate", NULL::BOOLEAN AS "subdisableonerr", NULL::VARCHAR AS "subconninfo", NULL::VARCHAR AS "subslotname", NULL::VARCHAR AS "subsynccommit", NULL::VARCHAR[] AS "subpublications", 6100::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_transform() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "trftype", NULL::BIGINT AS "trflang", NULL::VARCHAR AS "trffromsql", NULL::VARCHAR AS "trftosql", 3576::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_trigger() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::BIGINT AS "tgrelid", NULL::BIGINT AS "tgparentid", NULL::VARCHAR AS "tgname", NULL::BIGINT AS "tgfoid", NULL::SMALLINT AS "tgtype", NULL::VARCHAR AS "tgenabled", NULL::BOOLEAN AS "tgisinternal", NULL::BIGINT AS "tgconstrrelid", NULL::BIGINT AS "tgconstrindid", NULL::BIGINT AS "tgconstraint", NULL::BOOLEAN AS "tgdeferrable", NULL::BOOLEAN AS "tginitdeferred", NULL::SMALLINT AS "tgnargs", NULL::SMALLINT[] AS "tgattr", NULL::VARCHAR AS "tgargs", NULL::VARCHAR AS "tgqual", NULL::VARCHAR AS "tgoldtable", NULL::VARCHAR AS "tgnewtable", 2620::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_ts_config() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "cfgname", NULL::BIGINT AS "cfgnamespace", NULL::BIGINT AS "cfgowner", NULL::BIGINT AS "cfgparser", 3602::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_ts_dict() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "dictname", NULL::BIGINT AS "dictnamespace", NULL::BIGINT AS "dictowner", NULL::BIGINT AS "dicttemplate", NULL::VARCHAR AS "dictinitoption", 3600::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_ts_parser() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "prsname", NULL::BIGINT AS "prsnamespace", NULL::VARCHAR AS "prsstart", NULL::VARCHAR AS "prstoken", NULL::VARCHAR AS "prsend", NULL::VARCHAR AS "prsheadline", NULL::VARCHAR AS "prslextype", 3601::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_ts_template() AS TABLE SELECT NULL::BIGINT AS "oid", NULL::VARCHAR AS "tmplname", NULL::BIGINT AS "tmplnamespace", NULL::VARCHAR AS "tmplinit", NULL::VARCHAR AS "tmpllexize", 3764::BIGINT AS "tableoid" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_pg_user_mappings() AS TABLE SELECT NULL::BIGINT AS "umid", NULL::BIGINT AS "srvid", NULL::VARCHAR AS "srvname", NULL::BIGINT AS "umuser", NULL::VARCHAR AS "usename", NULL::VARCHAR[] AS "umoptions" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_applicable_roles() AS TABLE SELECT NULL::VARCHAR AS "grantee", NULL::VARCHAR AS "role_name", NULL::VARCHAR AS "is_grantable" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_column_privileges() AS TABLE SELECT NULL::VARCHAR AS "grantor", NULL::VARCHAR AS "grantee", NULL::VARCHAR AS "table_catalog", NULL::VARCHAR AS "table_schema", NULL::VARCHAR AS "table_name", NULL::VARCHAR AS "column_name", NULL::VARCHAR AS "privilege_type", NULL::VARCHAR AS "is_grantable" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_domains() AS TABLE SELECT NULL::VARCHAR AS "domain_catalog", NULL::VARCHAR AS "domain_schema", NULL::VARCHAR AS "domain_name", NULL::VARCHAR AS "data_type", NULL::INTEGER AS "character_maximum_length", NULL::INTEGER AS "character_octet_length", NULL::VARCHAR AS "character_set_catalog", NULL::VARCHAR AS "character_set_schema", NULL::VARCHAR AS "character_set_name", NULL::VARCHAR AS "collation_catalog", NULL::VARCHAR AS "collation_schema", NULL::VARCHAR AS "collation_name", NULL::INTEGER AS "numeric_precision", NULL::INTEGER AS "numeric_precision_radix", NULL::INTEGER AS "numeric_scale", NULL::INTEGER AS "datetime_precision", NULL::VARCHAR AS "interval_type", NULL::INTEGER AS "interval_precision", NULL::VARCHAR AS "domain_default", NULL::VARCHAR AS "udt_catalog", NULL::VARCHAR AS "udt_schema", NULL::VARCHAR AS "udt_name", NULL::VARCHAR AS "scope_catalog", NULL::VARCHAR AS "scope_schema", NULL::VARCHAR AS "scope_name", NULL::INTEGER AS "maximum_cardinality", NULL::VARCHAR AS "dtd_identifier" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_element_types() AS TABLE SELECT NULL::VARCHAR AS "object_catalog", NULL::VARCHAR AS "object_schema", NULL::VARCHAR AS "object_name", NULL::VARCHAR AS "object_type", NULL::VARCHAR AS "collection_type_identifier", NULL::VARCHAR AS "data_type", NULL::INTEGER AS "character_maximum_length", NULL::INTEGER AS "character_octet_length", NULL::VARCHAR AS "character_set_catalog", NULL::VARCHAR AS "character_set_schema", NULL::VARCHAR AS "character_set_name", NULL::VARCHAR AS "collation_catalog", NULL::VARCHAR AS "collation_schema", NULL::VARCHAR AS "collation_name", NULL::INTEGER AS "numeric_precision", NULL::INTEGER AS "numeric_precision_radix", NULL::INTEGER AS "numeric_scale", NULL::INTEGER AS "datetime_precision", NULL::VARCHAR AS "interval_type", NULL::INTEGER AS "interval_precision", NULL::VARCHAR AS "domain_default", NULL::VARCHAR AS "udt_catalog", NULL::VARCHAR AS "udt_schema", NULL::VARCHAR AS "udt_name", NULL::VARCHAR AS "scope_catalog", NULL::VARCHAR AS "scope_schema", NULL::VARCHAR AS "scope_name", NULL::INTEGER AS "maximum_cardinality", NULL::VARCHAR AS "dtd_identifier" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_enabled_roles() AS TABLE SELECT NULL::VARCHAR AS "role_name" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_parameters() AS TABLE SELECT NULL::VARCHAR AS "specific_catalog", NULL::VARCHAR AS "specific_schema", NULL::VARCHAR AS "specific_name", NULL::INTEGER AS "ordinal_position", NULL::VARCHAR AS "parameter_mode", NULL::VARCHAR AS "is_result", NULL::VARCHAR AS "as_locator", NULL::VARCHAR AS "parameter_name", NULL::VARCHAR AS "data_type", NULL::INTEGER AS "character_maximum_length", NULL::INTEGER AS "character_octet_length", NULL::VARCHAR AS "character_set_catalog", NULL::VARCHAR AS "character_set_schema", NULL::VARCHAR AS "character_set_name", NULL::VARCHAR AS "collation_catalog", NULL::VARCHAR AS "collation_schema", NULL::VARCHAR AS "collation_name", NULL::INTEGER AS "numeric_precision", NULL::INTEGER AS "numeric_precision_radix", NULL::INTEGER AS "numeric_scale", NULL::INTEGER AS "datetime_precision", NULL::VARCHAR AS "interval_type", NULL::INTEGER AS "interval_precision", NULL::VARCHAR AS "udt_catalog", NULL::VARCHAR AS "udt_schema", NULL::VARCHAR AS "udt_name", NULL::VARCHAR AS "scope_catalog", NULL::VARCHAR AS "scope_schema", NULL::VARCHAR AS "scope_name", NULL::INTEGER AS "maximum_cardinality", NULL::VARCHAR AS "dtd_identifier", NULL::VARCHAR AS "parameter_default" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_role_table_grants() AS TABLE SELECT NULL::VARCHAR AS "grantor", NULL::VARCHAR AS "grantee", NULL::VARCHAR AS "table_catalog", NULL::VARCHAR AS "table_schema", NULL::VARCHAR AS "table_name", NULL::VARCHAR AS "privilege_type", NULL::VARCHAR AS "is_grantable", NULL::VARCHAR AS "with_hierarchy" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_routines() AS TABLE SELECT NULL::VARCHAR AS "specific_catalog", NULL::VARCHAR AS "specific_schema", NULL::VARCHAR AS "specific_name", NULL::VARCHAR AS "routine_catalog", NULL::VARCHAR AS "routine_schema", NULL::VARCHAR AS "routine_name", NULL::VARCHAR AS "routine_type", NULL::VARCHAR AS "module_catalog", NULL::VARCHAR AS "module_schema", NULL::VARCHAR AS "module_name", NULL::VARCHAR AS "udt_catalog", NULL::VARCHAR AS "udt_schema", NULL::VARCHAR AS "udt_name", NULL::VARCHAR AS "data_type", NULL::INTEGER AS "character_maximum_length", NULL::INTEGER AS "character_octet_length", NULL::VARCHAR AS "character_set_catalog", NULL::VARCHAR AS "character_set_schema", NULL::VARCHAR AS "character_set_name", NULL::VARCHAR AS "collation_catalog", NULL::VARCHAR AS "collation_schema", NULL::VARCHAR AS "collation_name", NULL::INTEGER AS "numeric_precision", NULL::INTEGER AS "numeric_precision_radix", NULL::INTEGER AS "numeric_scale", NULL::INTEGER AS "datetime_precision", NULL::VARCHAR AS "interval_type", NULL::INTEGER AS "interval_precision", NULL::VARCHAR AS "type_udt_catalog", NULL::VARCHAR AS "type_udt_schema", NULL::VARCHAR AS "type_udt_name", NULL::VARCHAR AS "scope_catalog", NULL::VARCHAR AS "scope_schema", NULL::VARCHAR AS "scope_name", NULL::INTEGER AS "maximum_cardinality", NULL::VARCHAR AS "dtd_identifier", NULL::VARCHAR AS "routine_body", NULL::VARCHAR AS "routine_definition", NULL::VARCHAR AS "external_name", NULL::VARCHAR AS "external_language", NULL::VARCHAR AS "parameter_style", NULL::VARCHAR AS "is_deterministic", NULL::VARCHAR AS "sql_data_access", NULL::VARCHAR AS "is_null_call", NULL::VARCHAR AS "sql_path", NULL::VARCHAR AS "schema_level_routine", NULL::INTEGER AS "max_dynamic_result_sets", NULL::VARCHAR AS "is_user_defined_cast", NULL::VARCHAR AS "is_implicitly_invocable", NULL::VARCHAR AS "security_type", NULL::VARCHAR AS "to_sql_specific_catalog", NULL::VARCHAR AS "to_sql_specific_schema", NULL::VARCHAR AS "to_sql_specific_name", NULL::VARCHAR AS "as_locator", NULL::TIMESTAMPTZ AS "created", NULL::TIMESTAMPTZ AS "last_altered", NULL::VARCHAR AS "new_savepoint_level", NULL::VARCHAR AS "is_udt_dependent", NULL::VARCHAR AS "result_cast_from_data_type", NULL::VARCHAR AS "result_cast_as_locator", NULL::INTEGER AS "result_cast_char_max_length", NULL::INTEGER AS "result_cast_char_octet_length", NULL::VARCHAR AS "result_cast_char_set_catalog", NULL::VARCHAR AS "result_cast_char_set_schema", NULL::VARCHAR AS "result_cast_char_set_name", NULL::VARCHAR AS "result_cast_collation_catalog", NULL::VARCHAR AS "result_cast_collation_schema", NULL::VARCHAR AS "result_cast_collation_name", NULL::INTEGER AS "result_cast_numeric_precision", NULL::INTEGER AS "result_cast_numeric_precision_radix", NULL::INTEGER AS "result_cast_numeric_scale", NULL::INTEGER AS "result_cast_datetime_precision", NULL::VARCHAR AS "result_cast_interval_type", NULL::INTEGER AS "result_cast_interval_precision", NULL::VARCHAR AS "result_cast_type_udt_catalog", NULL::VARCHAR AS "result_cast_type_udt_schema", NULL::VARCHAR AS "result_cast_type_udt_name", NULL::VARCHAR AS "result_cast_scope_catalog", NULL::VARCHAR AS "result_cast_scope_schema", NULL::VARCHAR AS "result_cast_scope_name", NULL::INTEGER AS "result_cast_maximum_cardinality", NULL::VARCHAR AS "result_cast_dtd_identifier" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_sequences() AS TABLE SELECT NULL::VARCHAR AS "sequence_catalog", NULL::VARCHAR AS "sequence_schema", NULL::VARCHAR AS "sequence_name", NULL::VARCHAR AS "data_type", NULL::INTEGER AS "numeric_precision", NULL::INTEGER AS "numeric_precision_radix", NULL::INTEGER AS "numeric_scale", NULL::VARCHAR AS "start_value", NULL::VARCHAR AS "minimum_value", NULL::VARCHAR AS "maximum_value", NULL::VARCHAR AS "increment", NULL::VARCHAR AS "cycle_option" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_table_privileges() AS TABLE SELECT NULL::VARCHAR AS "grantor", NULL::VARCHAR AS "grantee", NULL::VARCHAR AS "table_catalog", NULL::VARCHAR AS "table_schema", NULL::VARCHAR AS "table_name", NULL::VARCHAR AS "privilege_type", NULL::VARCHAR AS "is_grantable", NULL::VARCHAR AS "with_hierarchy" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_is_triggers() AS TABLE SELECT NULL::VARCHAR AS "trigger_catalog", NULL::VARCHAR AS "trigger_schema", NULL::VARCHAR AS "trigger_name", NULL::VARCHAR AS "event_manipulation", NULL::VARCHAR AS "event_object_catalog", NULL::VARCHAR AS "event_object_schema", NULL::VARCHAR AS "event_object_table", NULL::INTEGER AS "action_order", NULL::VARCHAR AS "action_condition", NULL::VARCHAR AS "action_statement", NULL::VARCHAR AS "action_orientation", NULL::VARCHAR AS "action_timing", NULL::VARCHAR AS "action_reference_old_table", NULL::VARCHAR AS "action_reference_new_table", NULL::VARCHAR AS "action_reference_old_row", NULL::VARCHAR AS "action_reference_new_row", NULL::TIMESTAMPTZ AS "created" LIMIT 0;
CREATE OR REPLACE MACRO pg_compat_system_relations() AS TABLE SELECT oid::BIGINT AS oid, relname, relkind FROM (VALUES (826, 'pg_default_acl', 'r'), (1213, 'pg_tablespace', 'r'), (1214, 'pg_shdepend', 'r'), (1247, 'pg_type', 'r'), (1249, 'pg_attribute', 'r'), (1255, 'pg_proc', 'r'), (1259, 'pg_class', 'r'), (1260, 'pg_authid', 'r'), (1261, 'pg_auth_members', 'r'), (1262, 'pg_database', 'r'), (1417, 'pg_foreign_server', 'r'), (1418, 'pg_user_mapping', 'r'), (2224, 'pg_sequence', 'r'), (2328, 'pg_foreign_data_wrapper', 'r'), (2396, 'pg_shdescription', 'r'), (2600, 'pg_aggregate', 'r'), (2601, 'pg_am', 'r'), (2602, 'pg_amop', 'r'), (2603, 'pg_amproc', 'r'), (2604, 'pg_attrdef', 'r'), (2605, 'pg_cast', 'r'), (2606, 'pg_constraint', 'r'), (2607, 'pg_conversion', 'r'), (2608, 'pg_depend', 'r'), (2609, 'pg_description', 'r'), (2610, 'pg_index', 'r'), (2611, 'pg_inherits', 'r'), (2612, 'pg_language', 'r'), (2613, 'pg_largeobject', 'r'), (2615, 'pg_namespace', 'r'), (2616, 'pg_opclass', 'r'), (2617, 'pg_operator', 'r'), (2618, 'pg_rewrite', 'r'), (2619, 'pg_statistic', 'r'), (2620, 'pg_trigger', 'r'), (2753, 'pg_opfamily', 'r'), (2964, 'pg_db_role_setting', 'r'), (2995, 'pg_largeobject_metadata', 'r'), (3079, 'pg_extension', 'r'), (3118, 'pg_foreign_table', 'r'), (3256, 'pg_policy', 'r'), (3350, 'pg_partitioned_table', 'r'), (3381, 'pg_statistic_ext', 'r'), (3394, 'pg_init_privs', 'r'), (3429, 'pg_statistic_ext_data', 'r'), (3456, 'pg_collation', 'r'), (3466, 'pg_event_trigger', 'r'), (3501, 'pg_enum', 'r'), (3541, 'pg_range', 'r'), (3576, 'pg_transform', 'r'), (3592, 'pg_shseclabel', 'r'), (3596, 'pg_seclabel', 'r'), (3600, 'pg_ts_dict', 'r'), (3601, 'pg_ts_parser', 'r'), (3602, 'pg_ts_config', 'r'), (3603, 'pg_ts_config_map', 'r'), (3764, 'pg_ts_template', 'r'), (6000, 'pg_replication_origin', 'r'), (6100, 'pg_subscription', 'r'), (6102, 'pg_subscription_rel', 'r'), (6104, 'pg_publication', 'r'), (6106, 'pg_publication_rel', 'r'), (6237, 'pg_publication_namespace', 'r'), (6243, 'pg_parameter_acl', 'r'), (12000, 'pg_roles', 'v'), (12005, 'pg_shadow', 'v'), (12010, 'pg_group', 'v'), (12014, 'pg_user', 'v'), (12018, 'pg_policies', 'v'), (12023, 'pg_rules', 'v'), (12028, 'pg_views', 'v'), (12033, 'pg_tables', 'v'), (12038, 'pg_matviews', 'v'), (12043, 'pg_indexes', 'v'), (12048, 'pg_sequences', 'v'), (12053, 'pg_stats', 'v'), (12058, 'pg_stats_ext', 'v'), (12063, 'pg_stats_ext_exprs', 'v'), (12068, 'pg_publication_tables', 'v'), (12073, 'pg_locks', 'v'), (12077, 'pg_cursors', 'v'), (12081, 'pg_available_extensions', 'v'), (12085, 'pg_available_extension_versions', 'v'), (12090, 'pg_prepared_xacts', 'v'), (12095, 'pg_prepared_statements', 'v'), (12099, 'pg_seclabels', 'v'), (12104, 'pg_settings', 'v'), (12110, 'pg_file_settings', 'v'), (12114, 'pg_hba_file_rules', 'v'), (12118, 'pg_ident_file_mappings', 'v'), (12122, 'pg_timezone_abbrevs', 'v'), (12126, 'pg_timezone_names', 'v'), (12130, 'pg_config', 'v'), (12134, 'pg_shmem_allocations', 'v'), (12138, 'pg_backend_memory_contexts', 'v'), (12142, 'pg_stat_all_tables', 'v'), (12147, 'pg_stat_xact_all_tables', 'v'), (12152, 'pg_stat_sys_tables', 'v'), (12157, 'pg_stat_xact_sys_tables', 'v'), (12161, 'pg_stat_user_tables', 'v'), (12166, 'pg_stat_xact_user_tables', 'v'), (12170, 'pg_statio_all_tables', 'v'), (12175, 'pg_statio_sys_tables', 'v'), (12179, 'pg_statio_user_tables', 'v'), (12183, 'pg_stat_all_indexes', 'v'), (12188, 'pg_stat_sys_indexes', 'v'), (12192, 'pg_stat_user_indexes', 'v'), (12196, 'pg_statio_all_indexes', 'v'), (12201, 'pg_statio_sys_indexes', 'v'), (12205, 'pg_statio_user_indexes', 'v'), (12209, 'pg_statio_all_sequences', 'v'), (12214, 'pg_statio_sys_sequences', 'v'), (12218, 'pg_statio_user_sequences', 'v'), (12222, 'pg_stat_activity', 'v'), (12227, 'pg_stat_replication', 'v'), (12232, 'pg_stat_slru', 'v'), (12236, 'pg_stat_wal_receiver', 'v'), (12240, 'pg_stat_recovery_prefetch', 'v'), (12244, 'pg_stat_subscription', 'v'), (12249, 'pg_stat_ssl', 'v'), (12253, 'pg_stat_gssapi', 'v'), (12257, 'pg_replication_slots', 'v'), (12262, 'pg_stat_replication_slots', 'v'), (12266, 'pg_stat_database', 'v'), (12271, 'pg_stat_database_conflicts', 'v'), (12275, 'pg_stat_user_functions', 'v'), (12280, 'pg_stat_xact_user_functions', 'v'), (12285, 'pg_stat_archiver', 'v'), (12289, 'pg_stat_bgwriter', 'v'), (12293, 'pg_stat_wal', 'v'), (12297, 'pg_stat_progress_analyze', 'v'), (12302, 'pg_stat_progress_vacuum', 'v'), (12307, 'pg_stat_progress_cluster', 'v'), (12312, 'pg_stat_progress_create_index', 'v'), (12317, 'pg_stat_progress_basebackup', 'v'), (12322, 'pg_stat_progress_copy', 'v'), (12327, 'pg_user_mappings', 'v'), (12332, 'pg_replication_origin_status', 'v'), (12336, 'pg_stat_subscription_stats', 'v')) t(oid, relname, relkind);
-- GENERATED: end

-- Relations computed from the live catalog ------------------------------------------------------
-- Tables and views of the default database: (schema_name, relname, relkind, column_count, reltuples,
-- comment, definition: a view's query, as pg_get_viewdef shows it).
CREATE OR REPLACE MACRO pg_compat_relations() AS TABLE
    SELECT schema_name, table_name AS relname, 'r' AS relkind, column_count, estimated_size::DOUBLE AS reltuples, comment, NULL::VARCHAR AS definition
    FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary
    UNION ALL
    SELECT schema_name, view_name, pg_compat_view_relkind(sql), column_count, -1, comment,
        rtrim(regexp_replace(sql, '(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?VIEW\s+.*?\s+AS\s+', ''), chr(59) || chr(10) || ' ')
    FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary;
CREATE OR REPLACE MACRO pg_compat_columns() AS TABLE
    SELECT schema_name, table_name, column_name, column_index, is_nullable, column_default, data_type, comment, pg_compat_type_oid(data_type)::UINTEGER AS atttypid, pg_compat_type_mod(data_type) AS atttypmod
    FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal;
CREATE OR REPLACE MACRO pg_compat_pg_namespace() AS TABLE
    SELECT pg_compat_nsp_oid(nspname) AS oid, nspname, 10::BIGINT AS nspowner, NULL::VARCHAR[] AS nspacl
    FROM (SELECT 'pg_catalog' AS nspname UNION ALL SELECT 'information_schema'
          UNION ALL SELECT DISTINCT schema_name FROM duckdb_schemas()
          WHERE database_name = current_database() AND schema_name NOT IN ('pg_catalog', 'information_schema'));
CREATE OR REPLACE MACRO pg_compat_pg_class() AS TABLE
    SELECT pg_compat_rel_oid(schema_name, relname) AS oid, relname, pg_compat_nsp_oid(schema_name) AS relnamespace,
        0::BIGINT AS reltype, 0::BIGINT AS reloftype, 10::BIGINT AS relowner, (CASE relkind WHEN 'r' THEN 2 ELSE 0 END)::BIGINT AS relam,
        0::BIGINT AS relfilenode, 0::BIGINT AS reltablespace, 0 AS relpages, reltuples::FLOAT AS reltuples, 0 AS relallvisible,
        0::BIGINT AS reltoastrelid, false AS relhasindex, false AS relisshared, 'p' AS relpersistence, relkind,
        column_count::SMALLINT AS relnatts, 0::SMALLINT AS relchecks, false AS relhasrules, false AS relhastriggers,
        false AS relhassubclass, false AS relrowsecurity, false AS relforcerowsecurity, true AS relispopulated,
        'd' AS relreplident, false AS relispartition, 0::BIGINT AS relrewrite, 0::BIGINT AS relfrozenxid, 0::BIGINT AS relminmxid,
        NULL::VARCHAR[] AS relacl, NULL::VARCHAR[] AS reloptions, NULL::VARCHAR AS relpartbound,
        false AS relhasoids
    FROM pg_compat_relations()
    UNION ALL
    SELECT oid, relname, 11, 0, 0, 10, CASE relkind WHEN 'r' THEN 2 ELSE 0 END, 0, 0, 0, -1, 0, 0, false, false, 'p', relkind,
        0, 0, false, false, false, false, false, true, 'n', false, 0, 0, 0, NULL, NULL, NULL, false
    FROM pg_compat_system_relations();
CREATE OR REPLACE MACRO pg_compat_pg_attribute() AS TABLE
    SELECT pg_compat_rel_oid(c.schema_name, c.table_name) AS attrelid, c.column_name AS attname, c.atttypid,
        -1 AS attstattarget, t.typlen AS attlen, c.column_index::SMALLINT AS attnum,
        (CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END) AS attndims, -1 AS attcacheoff, c.atttypmod,
        t.typbyval AS attbyval, t.typalign AS attalign, t.typstorage AS attstorage, '' AS attcompression,
        NOT c.is_nullable AS attnotnull, c.column_default IS NOT NULL AS atthasdef, false AS atthasmissing,
        '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
        t.typcollation AS attcollation, NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions,
        NULL::VARCHAR[] AS attfdwoptions, NULL::VARCHAR[] AS attmissingval
    FROM pg_compat_columns() c LEFT JOIN pg_compat_pg_type() t ON t.oid = c.atttypid;
CREATE OR REPLACE MACRO pg_compat_pg_attrdef() AS TABLE
    SELECT pg_compat_rel_oid(schema_name, table_name || '.' || column_name) AS oid, pg_compat_rel_oid(schema_name, table_name) AS adrelid,
        column_index::SMALLINT AS adnum, column_default AS adbin
    FROM pg_compat_columns() WHERE column_default IS NOT NULL;
CREATE OR REPLACE MACRO pg_compat_pg_description() AS TABLE
    SELECT pg_compat_rel_oid(schema_name, relname) AS objoid, 1259::BIGINT AS classoid, 0 AS objsubid, comment AS description
    FROM pg_compat_relations() WHERE comment IS NOT NULL AND comment <> ''
    UNION ALL
    SELECT pg_compat_rel_oid(schema_name, table_name), 1259, column_index, comment
    FROM pg_compat_columns() WHERE comment IS NOT NULL AND comment <> '';
CREATE OR REPLACE MACRO obj_description(id) AS (SELECT map(list(objoid), list(description)) FROM pg_compat_pg_description() WHERE objsubid = 0)[TRY_CAST(id AS BIGINT)], (id, catalog) AS (SELECT map(list(objoid), list(description)) FROM pg_compat_pg_description() WHERE objsubid = 0)[TRY_CAST(id AS BIGINT)];
CREATE OR REPLACE MACRO col_description(id, num) AS (SELECT map(list(objoid || '.' || objsubid), list(description)) FROM pg_compat_pg_description())[id || '.' || num];
CREATE OR REPLACE MACRO pg_get_viewdef(id) AS (SELECT map(list(pg_compat_rel_oid(schema_name, relname)), list(definition)) FROM pg_compat_relations())[id], (id, pretty) AS (SELECT map(list(pg_compat_rel_oid(schema_name, relname)), list(definition)) FROM pg_compat_relations())[id];
CREATE OR REPLACE MACRO pg_compat_pg_tables(usr) AS TABLE
    SELECT schema_name AS schemaname, relname AS tablename, usr::VARCHAR AS tableowner, NULL::VARCHAR AS tablespace,
        false AS hasindexes, false AS hasrules, false AS hastriggers, false AS rowsecurity
    FROM pg_compat_relations() WHERE relkind = 'r';
CREATE OR REPLACE MACRO pg_compat_pg_views(usr) AS TABLE
    SELECT schema_name AS schemaname, relname AS viewname, usr::VARCHAR AS viewowner, definition
    FROM pg_compat_relations() WHERE relkind = 'v';
CREATE OR REPLACE MACRO pg_compat_pg_database(db) AS TABLE
    SELECT 16384::BIGINT AS oid, db::VARCHAR AS datname, 10::BIGINT AS datdba, 6 AS encoding, 'c' AS datlocprovider,
        false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0::BIGINT AS datfrozenxid, 1::BIGINT AS datminmxid,
        1663::BIGINT AS dattablespace, 'C' AS datcollate, 'C' AS datctype, NULL::VARCHAR AS daticulocale,
        NULL::VARCHAR AS datcollversion, NULL::VARCHAR[] AS datacl;
CREATE OR REPLACE MACRO pg_compat_pg_roles(usr) AS TABLE
    SELECT usr::VARCHAR AS rolname, false AS rolsuper, true AS rolinherit, false AS rolcreaterole, false AS rolcreatedb,
        true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword,
        NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS rolconfig, 10::BIGINT AS oid;
CREATE OR REPLACE MACRO pg_compat_pg_authid(usr) AS TABLE
    SELECT 10::BIGINT AS oid, usr::VARCHAR AS rolname, false AS rolsuper, true AS rolinherit, false AS rolcreaterole,
        false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, false AS rolbypassrls, -1 AS rolconnlimit,
        NULL::VARCHAR AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil;
CREATE OR REPLACE MACRO pg_compat_pg_user(usr) AS TABLE
    SELECT usr::VARCHAR AS usename, 10::BIGINT AS usesysid, false AS usecreatedb, false AS usesuper, false AS userepl,
        false AS usebypassrls, '********' AS passwd, NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS useconfig;
-- settings: the session's [{name, setting, description}], passed by the adapter.
CREATE OR REPLACE MACRO pg_compat_pg_settings(settings) AS TABLE
    SELECT s.name::VARCHAR AS name, s.setting::VARCHAR AS setting, NULL::VARCHAR AS unit, 'Tavana' AS category,
        s.description::VARCHAR AS short_desc, NULL::VARCHAR AS extra_desc, 'user' AS context, 'string' AS vartype,
        'session' AS source, NULL::VARCHAR AS min_val, NULL::VARCHAR AS max_val, NULL::VARCHAR[] AS enumvals,
        s.setting::VARCHAR AS boot_val, s.setting::VARCHAR AS reset_val, NULL::VARCHAR AS sourcefile,
        NULL::INTEGER AS sourceline, false AS pending_restart
    FROM (SELECT unnest(settings) AS s);

-- Static relations (PostgreSQL 15 rows) -----------------------------------------------------------
CREATE OR REPLACE MACRO pg_compat_pg_am() AS TABLE
    SELECT oid::BIGINT AS oid, amname, amhandler, amtype FROM (VALUES (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i'), (405, 'hash', 'hashhandler', 'i'), (783, 'gist', 'gisthandler', 'i'), (2742, 'gin', 'ginhandler', 'i'), (4000, 'spgist', 'spghandler', 'i'), (3580, 'brin', 'brinhandler', 'i')) t(oid, amname, amhandler, amtype);
CREATE OR REPLACE MACRO pg_compat_pg_collation() AS TABLE
    SELECT oid::BIGINT AS oid, collname, 11::BIGINT AS collnamespace, 10::BIGINT AS collowner, collprovider, true AS collisdeterministic,
        collencoding, collcollate, collctype, NULL::VARCHAR AS colliculocale, NULL::VARCHAR AS collversion
    FROM (VALUES (100, 'default', 'd', -1, NULL, NULL), (950, 'C', 'c', -1, 'C', 'C'), (951, 'POSIX', 'c', -1, 'POSIX', 'POSIX')) t(oid, collname, collprovider, collencoding, collcollate, collctype);
CREATE OR REPLACE MACRO pg_compat_pg_tablespace() AS TABLE
    SELECT oid::BIGINT AS oid, spcname, 10::BIGINT AS spcowner, NULL::VARCHAR[] AS spcacl, NULL::VARCHAR[] AS spcoptions
    FROM (VALUES (1663, 'pg_default'), (1664, 'pg_global')) t(oid, spcname);

-- Type names and reg* casts (over the emulated pg_type and pg_class) ----------------------------
CREATE OR REPLACE MACRO pg_compat_format_base(id, mod, name) AS CASE id
    WHEN 16 THEN 'boolean' WHEN 18 THEN '"char"' WHEN 20 THEN 'bigint' WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer'
    WHEN 700 THEN 'real' WHEN 701 THEN 'double precision'
    WHEN 1042 THEN CASE WHEN mod > 4 THEN 'character(' || (mod - 4) || ')' ELSE 'character' END
    WHEN 1043 THEN CASE WHEN mod > 4 THEN 'character varying(' || (mod - 4) || ')' ELSE 'character varying' END
    WHEN 1083 THEN 'time without time zone' WHEN 1114 THEN 'timestamp without time zone'
    WHEN 1184 THEN 'timestamp with time zone' WHEN 1266 THEN 'time with time zone'
    WHEN 1560 THEN 'bit' WHEN 1562 THEN 'bit varying'
    WHEN 1700 THEN CASE WHEN mod > 4 THEN 'numeric(' || ((mod - 4) >> 16) || ',' || ((mod - 4) & 65535) || ')' ELSE 'numeric' END
    ELSE name END;
CREATE OR REPLACE MACRO pg_compat_type_info(id) AS (SELECT map(list(oid), list({'typname': typname, 'typcategory': typcategory, 'typelem': typelem})) FROM pg_compat_pg_type())[TRY_CAST(id AS BIGINT)];
CREATE OR REPLACE MACRO pg_compat_format_type(id, mod) AS CASE
    WHEN id IS NULL THEN NULL
    WHEN pg_compat_type_info(id) IS NULL THEN '???'
    WHEN pg_compat_type_info(id).typcategory = 'A' AND pg_compat_type_info(id).typelem <> 0
        THEN pg_compat_format_base(pg_compat_type_info(id).typelem, mod, pg_compat_type_info(pg_compat_type_info(id).typelem).typname) || '[]'
    ELSE pg_compat_format_base(id, mod, pg_compat_type_info(id).typname) END;
CREATE OR REPLACE MACRO format_type(id, mod) AS pg_compat_format_type(id, mod);
CREATE OR REPLACE MACRO pg_compat_to_regclass(name) AS CASE WHEN pg_compat_ident_schema(name) IS NULL
    THEN (SELECT list(c.oid ORDER BY n.nspname = 'pg_catalog' DESC, n.nspname = 'main' DESC, c.oid) FROM pg_compat_pg_class() c JOIN pg_compat_pg_namespace() n ON n.oid = c.relnamespace)[list_position(
        (SELECT list(c.relname ORDER BY n.nspname = 'pg_catalog' DESC, n.nspname = 'main' DESC, c.oid) FROM pg_compat_pg_class() c JOIN pg_compat_pg_namespace() n ON n.oid = c.relnamespace),
        pg_compat_ident_last(name))]
    ELSE (SELECT map(list(n.nspname || '.' || c.relname), list(c.oid)) FROM pg_compat_pg_class() c JOIN pg_compat_pg_namespace() n ON n.oid = c.relnamespace)[pg_compat_ident_schema(name) || '.' || pg_compat_ident_last(name)] END;
CREATE OR REPLACE MACRO to_regclass(name) AS pg_compat_to_regclass(name);
CREATE OR REPLACE MACRO pg_compat_regclass_name(id) AS coalesce((SELECT map(list(oid), list(relname)) FROM pg_compat_pg_class())[id], id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_typname(name) AS CASE lower(trim(regexp_replace(name::VARCHAR, '^pg_catalog\.', '')))
    WHEN 'integer' THEN 'int4' WHEN 'int' THEN 'int4' WHEN 'smallint' THEN 'int2' WHEN 'bigint' THEN 'int8'
    WHEN 'boolean' THEN 'bool' WHEN 'real' THEN 'float4' WHEN 'double precision' THEN 'float8' WHEN 'float' THEN 'float8'
    WHEN 'character varying' THEN 'varchar' WHEN 'character' THEN 'bpchar' WHEN 'char' THEN 'bpchar' WHEN 'decimal' THEN 'numeric'
    WHEN 'timestamp without time zone' THEN 'timestamp' WHEN 'timestamp with time zone' THEN 'timestamptz'
    WHEN 'time without time zone' THEN 'time' WHEN 'time with time zone' THEN 'timetz'
    ELSE lower(trim(replace(regexp_replace(name::VARCHAR, '^pg_catalog\.', ''), '"', ''))) END;
CREATE OR REPLACE MACRO pg_compat_to_regtype(name) AS (SELECT map(list(typname), list(oid)) FROM pg_compat_pg_type())[CASE
    WHEN suffix(trim(name::VARCHAR), '[]') THEN '_' || pg_compat_typname(trim(name::VARCHAR)[:-3])
    ELSE pg_compat_typname(name) END];
CREATE OR REPLACE MACRO to_regtype(name) AS pg_compat_to_regtype(name);
CREATE OR REPLACE MACRO pg_compat_regtype_name(id) AS coalesce(pg_compat_format_type(id, NULL), id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regnamespace(name) AS (SELECT map(list(nspname), list(oid)) FROM pg_compat_pg_namespace())[pg_compat_ident_last(name)];
CREATE OR REPLACE MACRO to_regnamespace(name) AS pg_compat_to_regnamespace(name);
CREATE OR REPLACE MACRO pg_compat_regnamespace_name(id) AS coalesce((SELECT map(list(oid), list(nspname)) FROM pg_compat_pg_namespace())[id], id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regproc(name) AS regexp_replace(name::VARCHAR, '^pg_catalog\.', '');
CREATE OR REPLACE MACRO pg_compat_regproc_name(id) AS id::VARCHAR;
CREATE OR REPLACE MACRO pg_compat_to_regprocedure(name) AS regexp_replace(regexp_replace(name::VARCHAR, '^pg_catalog\.', ''), '\(.*$', '');
CREATE OR REPLACE MACRO pg_compat_regprocedure_name(id) AS id::VARCHAR;
CREATE OR REPLACE MACRO pg_compat_to_regrole(name) AS 10::BIGINT;
CREATE OR REPLACE MACRO pg_compat_regrole_name(id) AS current_user;
CREATE OR REPLACE MACRO pg_compat_to_regoper(name) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_compat_regoper_name(id) AS id::VARCHAR;
CREATE OR REPLACE MACRO pg_compat_to_regconfig(name) AS 3748::BIGINT;
CREATE OR REPLACE MACRO pg_compat_regconfig_name(id) AS 'simple';
CREATE OR REPLACE MACRO pg_get_keywords() AS TABLE SELECT keyword_name AS word, CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'column_name' THEN 'C' ELSE 'T' END AS catcode, keyword_category AS catdesc FROM duckdb_keywords();

-- information_schema ---------------------------------------------------------------------------
CREATE OR REPLACE MACRO pg_compat_is_schemata(db, usr) AS TABLE
    SELECT db::VARCHAR AS catalog_name, nspname AS schema_name, usr::VARCHAR AS schema_owner, NULL::VARCHAR AS default_character_set_catalog,
        NULL::VARCHAR AS default_character_set_schema, NULL::VARCHAR AS default_character_set_name, NULL::VARCHAR AS sql_path
    FROM pg_compat_pg_namespace();
CREATE OR REPLACE MACRO pg_compat_is_tables(db) AS TABLE
    SELECT db::VARCHAR AS table_catalog, schema_name AS table_schema, relname AS table_name,
        CASE relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type, NULL::VARCHAR AS self_referencing_column_name,
        NULL::VARCHAR AS reference_generation, NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
        NULL::VARCHAR AS user_defined_type_name, 'NO' AS is_insertable_into, 'NO' AS is_typed, NULL::VARCHAR AS commit_action
    FROM (SELECT schema_name, relname, relkind FROM pg_compat_relations()
          UNION ALL SELECT 'pg_catalog', relname, relkind FROM pg_compat_system_relations());
CREATE OR REPLACE MACRO pg_compat_is_data_type(oid, category, name) AS CASE
    WHEN category = 'A' THEN 'ARRAY'
    WHEN oid IN (1043, 1083, 1114, 1184, 1266, 1042) THEN pg_compat_format_base(oid, -1, name)
    WHEN oid IN (16, 20, 21, 23, 700, 701, 1700) THEN pg_compat_format_base(oid, -1, name)
    ELSE name END;
CREATE OR REPLACE MACRO pg_compat_is_columns(db) AS TABLE
    SELECT db::VARCHAR AS table_catalog, c.schema_name AS table_schema, c.table_name, c.column_name,
        c.column_index::INTEGER AS ordinal_position, c.column_default, CASE WHEN c.is_nullable THEN 'YES' ELSE 'NO' END AS is_nullable,
        pg_compat_is_data_type(c.atttypid, t.typcategory, t.typname) AS data_type,
        NULL::INTEGER AS character_maximum_length,
        (CASE WHEN c.atttypid IN (25, 1043) THEN 1073741824 END)::INTEGER AS character_octet_length,
        (CASE c.atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
            WHEN 1700 THEN CASE WHEN c.atttypmod > 4 THEN (c.atttypmod - 4) >> 16 END END)::INTEGER AS numeric_precision,
        (CASE WHEN c.atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN c.atttypid = 1700 THEN 10 END)::INTEGER AS numeric_precision_radix,
        (CASE WHEN c.atttypid IN (21, 23, 20) THEN 0 WHEN c.atttypid = 1700 AND c.atttypmod > 4 THEN (c.atttypmod - 4) & 65535 END)::INTEGER AS numeric_scale,
        (CASE WHEN c.atttypid = 1082 THEN 0 WHEN c.atttypid IN (1083, 1114, 1184, 1186, 1266) THEN 6 END)::INTEGER AS datetime_precision,
        NULL::VARCHAR AS interval_type, NULL::INTEGER AS interval_precision, NULL::VARCHAR AS character_set_catalog,
        NULL::VARCHAR AS character_set_schema, NULL::VARCHAR AS character_set_name, NULL::VARCHAR AS collation_catalog,
        NULL::VARCHAR AS collation_schema, NULL::VARCHAR AS collation_name, NULL::VARCHAR AS domain_catalog,
        NULL::VARCHAR AS domain_schema, NULL::VARCHAR AS domain_name, db::VARCHAR AS udt_catalog, 'pg_catalog' AS udt_schema,
        t.typname AS udt_name, NULL::VARCHAR AS scope_catalog, NULL::VARCHAR AS scope_schema, NULL::VARCHAR AS scope_name,
        NULL::INTEGER AS maximum_cardinality, c.column_index::VARCHAR AS dtd_identifier, 'NO' AS is_self_referencing,
        'NO' AS is_identity, NULL::VARCHAR AS identity_generation, NULL::VARCHAR AS identity_start,
        NULL::VARCHAR AS identity_increment, NULL::VARCHAR AS identity_maximum, NULL::VARCHAR AS identity_minimum,
        'NO' AS identity_cycle, 'NEVER' AS is_generated, NULL::VARCHAR AS generation_expression, 'NO' AS is_updatable
    FROM pg_compat_columns() c LEFT JOIN pg_compat_pg_type() t ON t.oid = c.atttypid;
CREATE OR REPLACE MACRO pg_compat_is_views(db) AS TABLE
    SELECT db::VARCHAR AS table_catalog, schema_name AS table_schema, relname AS table_name, definition AS view_definition,
        'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable,
        'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
    FROM pg_compat_relations() WHERE relkind = 'v';
-- PostgreSQL's JSON set-returning functions, and regexp_split_to_table: a table macro each for
-- FROM, named as PostgreSQL names their columns, and a scalar one returning the list, which the
-- adapter unnests where a select list calls it (as it does generate_series). The jsonb_
-- spellings are renamed to these by the adapter.
CREATE OR REPLACE MACRO json_array_elements(j) AS CAST(CAST(j AS JSON) AS JSON[]);
CREATE OR REPLACE MACRO json_array_elements(j) AS TABLE SELECT unnest(CAST(CAST(j AS JSON) AS JSON[])) AS value;
CREATE OR REPLACE MACRO json_array_elements_text(j) AS CAST(CAST(j AS JSON) AS VARCHAR[]);
CREATE OR REPLACE MACRO json_array_elements_text(j) AS TABLE SELECT unnest(CAST(CAST(j AS JSON) AS VARCHAR[])) AS value;
-- (json_object_keys of an array or a scalar is an error, as in PostgreSQL; DuckDB's json_keys gives [].)
CREATE OR REPLACE MACRO pg_compat_object_keys(j) AS CASE WHEN j IS NULL OR json_type(CAST(j AS JSON)) = 'OBJECT'
    THEN json_keys(CAST(j AS JSON)) ELSE error('cannot call json_object_keys on ' || CASE json_type(CAST(j AS JSON))
    WHEN 'ARRAY' THEN 'an array' ELSE 'a scalar' END) END;
CREATE OR REPLACE MACRO json_object_keys(j) AS pg_compat_object_keys(j);
CREATE OR REPLACE MACRO json_object_keys(j) AS TABLE SELECT unnest(pg_compat_object_keys(j)) AS json_object_keys;
CREATE OR REPLACE MACRO json_each_text(j) AS TABLE SELECT key, value ->> '$' AS value FROM json_each(CAST(j AS JSON));
CREATE OR REPLACE MACRO regexp_split_to_table(s, pattern) AS string_split_regex(s, pattern);
CREATE OR REPLACE MACRO regexp_split_to_table(s, pattern) AS TABLE SELECT unnest(string_split_regex(s, pattern)) AS regexp_split_to_table;
-- json_typeof in PostgreSQL's words (DuckDB's json_type says VARCHAR, UBIGINT, ...).
CREATE OR REPLACE MACRO json_typeof(j) AS CASE WHEN j IS NULL THEN NULL ELSE CASE json_type(CAST(j AS JSON))
    WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean'
    WHEN 'NULL' THEN 'null' ELSE 'number' END END;
-- array_remove(a, x): `a` without the elements equal to `x` (NULL removes NULLs), as in PostgreSQL.
CREATE OR REPLACE MACRO array_remove(a, x) AS list_filter(a, pg_compat_e -> pg_compat_e IS DISTINCT FROM x);
-- pg_typeof in PostgreSQL's type names (the adapter calls this instead of DuckDB's pg_typeof,
-- which says decimal(2,1), varchar, double, blob, ...).
CREATE OR REPLACE MACRO pg_compat_base_type_name(t) AS CASE
    WHEN t LIKE 'decimal%' OR t IN ('hugeint', 'uhugeint', 'ubigint') THEN 'numeric'
    WHEN t = 'varchar' THEN 'text' WHEN t = 'double' THEN 'double precision' WHEN t = 'float' THEN 'real'
    WHEN t IN ('tinyint', 'utinyint') THEN 'smallint' WHEN t = 'usmallint' THEN 'integer' WHEN t = 'uinteger' THEN 'bigint'
    WHEN t = 'blob' THEN 'bytea' WHEN t = 'timestamp' THEN 'timestamp without time zone'
    WHEN t = 'time' THEN 'time without time zone' WHEN t = '"null"' THEN 'unknown'
    WHEN t LIKE 'struct%' OR t LIKE 'map%' OR t LIKE '%[]' THEN 'json' ELSE t END;
CREATE OR REPLACE MACRO pg_compat_typeof(x) AS CASE WHEN pg_typeof(x) LIKE '%[]'
    THEN pg_compat_base_type_name(left(pg_typeof(x), length(pg_typeof(x)) - 2)) || '[]'
    ELSE pg_compat_base_type_name(pg_typeof(x)) END;
-- to_char and to_date reach the engine only when the adapter could not translate their template
-- (a pattern strftime has no equivalent for, or a template that is not a literal): say so,
-- instead of DuckDB's "function does not exist".
CREATE OR REPLACE MACRO to_char(value, template) AS error('to_char: the template ''' || template || ''' has a pattern Tavana does not translate (dates: YYYY, IYYY, MM, DD, DDD, HH24, HH12, MI, SS, MS, US, AM, Month, Mon, Day, Dy, IW, TZ, FM and quoted text, and for numbers 9, 0, comma or G, point or D, FM), or is not a literal');
CREATE OR REPLACE MACRO to_date(value, template) AS error('to_date: the template ''' || template || ''' has a pattern Tavana does not translate (YYYY, IYYY, MM, DD, DDD, HH24, HH12, MI, SS, MS, US, AM, Month, Mon, Day, Dy, IW, TZ, FM and quoted text), or is not a literal');
-- make_interval with PostgreSQL's named arguments (`make_interval(days => 3)`) and div, the
-- quotient truncated towards zero as a numeric, computed exactly from the remainder.
CREATE OR REPLACE MACRO make_interval(years := 0, months := 0, weeks := 0, days := 0, hours := 0, mins := 0, secs := 0.0) AS
    to_months(CAST(years * 12 + months AS INTEGER)) + to_days(CAST(weeks * 7 + days AS INTEGER))
    + to_microseconds(CAST(round((hours * 3600 + mins * 60 + secs) * 1000000) AS BIGINT));
CREATE OR REPLACE MACRO div(a, b) AS CAST((a - a % b) / b AS DECIMAL(38, 0));
