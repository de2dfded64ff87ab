-- PostgreSQL compatibility macros for clients of the pg-adapter (psql, JDBC, BI tools).
-- Run by every executor at start-up, before the configuration is locked: one statement per
-- semicolon, so none inside statements or comments. The pg-adapter strips `pg_catalog.` from
-- function calls, sends format_type as pg_compat_format_type (DuckDB's maps OIDs wrongly) and
-- rewrites `::regclass`-style casts into the pg_compat_* macros below.
CREATE OR REPLACE MACRO pg_get_userbyid(id) AS 'tavana';
CREATE OR REPLACE MACRO pg_encoding_to_char(enc) AS 'UTF8';
CREATE OR REPLACE MACRO pg_char_to_encoding(name) AS 6;
CREATE OR REPLACE MACRO pg_backend_pid() AS 0;
CREATE OR REPLACE MACRO pg_is_in_recovery() AS false;
CREATE OR REPLACE MACRO pg_is_wal_replay_paused() AS false;
CREATE OR REPLACE MACRO pg_tablespace_location(oid) AS '';
CREATE OR REPLACE MACRO pg_total_relation_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_relation_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_table_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_indexes_size(oid) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_database_size(name) AS 0::BIGINT;
CREATE OR REPLACE MACRO pg_get_indexdef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_function_identity_arguments(oid) AS '';
CREATE OR REPLACE MACRO pg_get_function_result(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_function_arguments(oid) AS '';
CREATE OR REPLACE MACRO pg_get_triggerdef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_ruledef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_statisticsobjdef_columns(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_get_partkeydef(oid) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO shobj_description(oid, catalog) AS NULL::VARCHAR;
CREATE OR REPLACE MACRO pg_relation_is_publishable(oid) AS false;
CREATE OR REPLACE MACRO pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE OR REPLACE MACRO pg_conf_load_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE OR REPLACE MACRO inet_client_addr() AS NULL::VARCHAR;
CREATE OR REPLACE MACRO array_upper(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN len(arr) ELSE NULL END;
CREATE OR REPLACE MACRO array_lower(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN 1 ELSE NULL END;
CREATE OR REPLACE MACRO quote_ident(name) AS CASE WHEN regexp_full_match(name, '[a-z_][a-z0-9_$]*') THEN name ELSE '"' || replace(name, '"', '""') || '"' END;
CREATE OR REPLACE MACRO quote_literal(val) AS '''' || replace(val::VARCHAR, '''', '''''') || '''';
CREATE OR REPLACE MACRO pg_compat_unquote(name) AS replace(string_split(name::VARCHAR, '.')[-1], '"', '');
CREATE OR REPLACE MACRO pg_compat_to_regclass(name) AS (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = pg_compat_unquote(name) LIMIT 1);
CREATE OR REPLACE MACRO to_regclass(name) AS pg_compat_to_regclass(name);
CREATE OR REPLACE MACRO pg_compat_regclass_name(id) AS coalesce((SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = id LIMIT 1), id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regtype(name) AS (SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typname = pg_compat_unquote(name) LIMIT 1);
CREATE OR REPLACE MACRO to_regtype(name) AS pg_compat_to_regtype(name);
CREATE OR REPLACE MACRO pg_compat_regtype_name(id) AS coalesce((SELECT t.typname FROM pg_catalog.pg_type t WHERE t.oid = id LIMIT 1), id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regnamespace(name) AS (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_compat_unquote(name) LIMIT 1);
CREATE OR REPLACE MACRO pg_compat_regnamespace_name(id) AS coalesce((SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = id LIMIT 1), id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regproc(name) AS (SELECT p.oid FROM pg_catalog.pg_proc p WHERE p.proname = pg_compat_unquote(name) LIMIT 1);
CREATE OR REPLACE MACRO pg_compat_regproc_name(id) AS coalesce((SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid = id LIMIT 1), id::VARCHAR);
CREATE OR REPLACE MACRO pg_compat_to_regprocedure(name) AS pg_compat_to_regproc(name);
CREATE OR REPLACE MACRO pg_compat_regprocedure_name(id) AS pg_compat_regproc_name(id);
CREATE OR REPLACE MACRO pg_compat_to_regrole(name) AS 10;
CREATE OR REPLACE MACRO pg_compat_regrole_name(id) AS 'tavana';
CREATE OR REPLACE MACRO pg_compat_to_regoper(name) AS 0;
CREATE OR REPLACE MACRO pg_compat_regoper_name(id) AS id::VARCHAR;
CREATE OR REPLACE MACRO pg_compat_to_regconfig(name) AS 0;
CREATE OR REPLACE MACRO pg_compat_regconfig_name(id) AS 'simple';
CREATE OR REPLACE MACRO pg_get_keywords() AS TABLE SELECT * FROM (VALUES ('all', 'R', 'reserved'), ('and', 'R', 'reserved'), ('select', 'R', 'reserved'), ('from', 'R', 'reserved'), ('where', 'R', 'reserved'), ('table', 'R', 'reserved')) AS k(word, catcode, catdesc);
CREATE OR REPLACE MACRO pg_compat_format_type(id, typmod) AS (SELECT CASE t.typname WHEN 'int2' THEN 'smallint' WHEN 'int4' THEN 'integer' WHEN 'int8' THEN 'bigint' WHEN 'float4' THEN 'real' WHEN 'float8' THEN 'double precision' WHEN 'bool' THEN 'boolean' WHEN 'varchar' THEN 'character varying' WHEN 'bpchar' THEN 'character' WHEN 'timestamp' THEN 'timestamp without time zone' WHEN 'timestamptz' THEN 'timestamp with time zone' WHEN 'time' THEN 'time without time zone' WHEN 'timetz' THEN 'time with time zone' WHEN 'numeric' THEN CASE WHEN typmod IS NOT NULL AND typmod > 4 THEN 'numeric(' || ((typmod - 4) >> 16)::VARCHAR || ',' || ((typmod - 4) & 65535)::VARCHAR || ')' ELSE 'numeric' END ELSE t.typname END FROM pg_catalog.pg_type t WHERE t.oid = id LIMIT 1);
