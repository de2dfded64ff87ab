"""Exports the static parts of executor/src/pg_compat.sql from a real PostgreSQL 15.

Run against any PostgreSQL 15 server (the Debian `postgresql` package works):

    python pg-adapter/dev/export_pg_catalog.py "host=127.0.0.1 port=5432 user=postgres" > /tmp/static.sql

and paste the output into the generated section of executor/src/pg_compat.sql. It prints:
- `pg_compat_pg_type()`: every base, pseudo, range and multirange type of pg_catalog, with the
  regproc columns as names (the emulation represents regproc values as names);
- one typed, empty table macro per catalog relation the adapter answers but Tavana has nothing
  to put in (indexes, constraints, triggers, policies, ...), with PostgreSQL's column names (and
  `tableoid` for tables) and DuckDB types chosen so that client queries bind;
- `pg_compat_system_relations()`: names and OIDs of the pg_catalog relations, so that
  `'pg_class'::regclass` and psql's `\\dS` resolve.
"""

from __future__ import annotations

import sys

import psycopg

# information_schema views Tavana has nothing to put in (DuckDB's own answer the others).
EMPTY_INFORMATION_SCHEMA = [
    "applicable_roles", "column_privileges", "domains", "element_types", "enabled_roles",
    "parameters", "role_table_grants", "routines", "sequences", "table_privileges", "triggers",
]

# Relations answered by an empty macro: Tavana has no indexes, constraints, triggers,
# policies, publications, inheritance, sequences, functions or extensions to list.
EMPTY = [
    "pg_aggregate", "pg_amop", "pg_amproc", "pg_auth_members", "pg_available_extensions",
    "pg_cast", "pg_constraint", "pg_conversion", "pg_db_role_setting", "pg_default_acl",
    "pg_depend", "pg_enum",
    "pg_event_trigger", "pg_extension", "pg_file_settings", "pg_foreign_data_wrapper",
    "pg_foreign_server", "pg_foreign_table", "pg_index", "pg_indexes", "pg_inherits",
    "pg_init_privs", "pg_language", "pg_largeobject_metadata", "pg_locks", "pg_matviews",
    "pg_opclass", "pg_operator", "pg_opfamily", "pg_partitioned_table", "pg_policies",
    "pg_policy", "pg_prepared_statements", "pg_proc", "pg_publication",
    "pg_publication_namespace", "pg_publication_rel", "pg_range", "pg_replication_slots",
    "pg_rewrite", "pg_rules", "pg_seclabel", "pg_sequence", "pg_sequences", "pg_shdescription",
    "pg_stat_activity", "pg_stat_all_tables", "pg_stat_database", "pg_stat_replication",
    "pg_stat_ssl", "pg_stat_user_indexes", "pg_stat_user_tables", "pg_statio_user_indexes",
    "pg_statio_user_tables", "pg_statistic_ext", "pg_stats", "pg_subscription", "pg_transform",
    "pg_trigger", "pg_ts_config", "pg_ts_dict", "pg_ts_parser", "pg_ts_template",
    "pg_user_mappings",
]

SCALAR = {
    "oid": "BIGINT", "regproc": "VARCHAR", "regprocedure": "VARCHAR", "regclass": "BIGINT",
    "regtype": "BIGINT", "regrole": "BIGINT", "regnamespace": "BIGINT", "xid": "BIGINT",
    "xid8": "BIGINT", "cid": "BIGINT", "smallint": "SMALLINT", "integer": "INTEGER",
    "bigint": "BIGINT", "boolean": "BOOLEAN", "real": "FLOAT", "double precision": "DOUBLE",
    "numeric": "DECIMAL(38,10)", "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP", "interval": "INTERVAL", "int2vector": "SMALLINT[]",
    "oidvector": "BIGINT[]", "anyarray": "VARCHAR[]",
}


def duck_type(pg: str) -> str:
    if pg.endswith("[]"):
        return duck_type(pg[:-2]).removesuffix("[]") + "[]"
    return SCALAR.get(pg, "VARCHAR")


def main(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT oid, typname, typlen, typbyval, typtype, typcategory, typispreferred, "
            "typdelim, typsubscript::text, typelem, typarray, typinput::text, typoutput::text, "
            "typreceive::text, typsend::text, typmodin::text, typmodout::text, "
            "typanalyze::text, typalign, typstorage, typtypmod, typndims, typcollation "
            "FROM pg_type WHERE typnamespace = 11 AND typtype IN ('b', 'p', 'r', 'm') "
            "AND typname !~ '^_?pg_' ORDER BY oid"
        ).fetchall()

        def lit(v):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, int):
                return str(v)
            if v == ";":
                return "chr(59)"  # the file is split at semicolons (box's typdelim)
            assert ";" not in str(v), v
            return "'" + str(v).replace("'", "''") + "'"

        values = ",\n".join("(" + ",".join(lit(v) for v in r) + ")" for r in rows)
        print(
            "CREATE OR REPLACE MACRO pg_compat_pg_type() AS TABLE SELECT oid::BIGINT AS oid, "
            "typname, 11::BIGINT AS typnamespace, 10::BIGINT AS typowner, typlen::SMALLINT AS typlen, "
            "typbyval, typtype, typcategory, typispreferred, true AS typisdefined, typdelim, "
            "0::BIGINT AS typrelid, typsubscript, typelem::BIGINT AS typelem, typarray::BIGINT AS typarray, "
            "typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze, typalign, "
            "typstorage, false AS typnotnull, 0::BIGINT AS typbasetype, typtypmod, typndims, "
            "typcollation::BIGINT AS typcollation, NULL::VARCHAR AS typdefaultbin, "
            "NULL::VARCHAR AS typdefault, NULL::VARCHAR[] AS typacl FROM (VALUES\n"
            + values
            + "\n) t(oid, typname, typlen, typbyval, typtype, typcategory, typispreferred, typdelim, "
            "typsubscript, typelem, typarray, typinput, typoutput, typreceive, typsend, typmodin, "
            "typmodout, typanalyze, typalign, typstorage, typtypmod, typndims, typcollation);"
        )
        for rel in EMPTY:
            cols = conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 11 "
                "AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (rel,),
            ).fetchall()
            assert cols, rel
            select = ", ".join(f"NULL::{duck_type(t)} AS \"{n}\"" for n, t in cols)
            # Tables (not views) have the system column tableoid, which psql joins on
            # (pg_description.classoid = x.tableoid in \\dd, \\dL, ...).
            table = conn.execute(
                "SELECT oid FROM pg_class WHERE relnamespace = 11 AND relname = %s "
                "AND relkind = 'r'",
                (rel,),
            ).fetchone()
            if table:
                select += f", {table[0]}::BIGINT AS \"tableoid\""
            print(f"CREATE OR REPLACE MACRO pg_compat_{rel}() AS TABLE SELECT {select} LIMIT 0;")
        for view in EMPTY_INFORMATION_SCHEMA:
            cols = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'information_schema' AND table_name = %s "
                "ORDER BY ordinal_position",
                (view,),
            ).fetchall()
            assert cols, view
            select = ", ".join(f"NULL::{duck_type(t)} AS \"{n}\"" for n, t in cols)
            print(f"CREATE OR REPLACE MACRO pg_compat_is_{view}() AS TABLE SELECT {select} LIMIT 0;")
        rels = conn.execute(
            "SELECT oid, relname, relkind::text FROM pg_class WHERE relnamespace = 11 "
            "AND relkind IN ('r', 'v') ORDER BY oid"
        ).fetchall()
        values = ", ".join(f"({o}, '{n}', '{k}')" for o, n, k in rels)
        print(
            "CREATE OR REPLACE MACRO pg_compat_system_relations() AS TABLE SELECT oid::BIGINT AS oid, "
            f"relname, relkind FROM (VALUES {values}) t(oid, relname, relkind);"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "host=127.0.0.1 port=5432 user=postgres")
