-- Tableau Desktop's PostgreSQL connector (psqlODBC with UseDeclareFetch): connection set-up,
-- capability probes, the table list and column metadata, and data read through
-- `declare "SQL_CUR..." cursor with hold for ...` / `fetch N in ...` / `close ...`, several
-- statements per simple-protocol message. Transcribed from psqlODBC's connection.c and
-- catalog functions (info.c) and Tableau's logged connection probes.

-- @query psqlODBC connect 1
set DateStyle to 'ISO'

-- @query psqlODBC connect 2
set extra_float_digits to 2

-- @query psqlODBC connect 3 (large objects type)
select oid, typbasetype from pg_type where typname = 'lo'

-- @query psqlODBC connect 4
-- @expect rows=1
select pg_client_encoding()

-- @query Tableau connection probe
-- @expect rows=1
SELECT version()

-- @query Tableau temporary-table probe (refused on a read-only service: Tableau then works without temp tables)
-- @expect any
CREATE LOCAL TEMPORARY TABLE "#Tableau_5_2_Connect" (
	"COL" INTEGER
	) ON COMMIT PRESERVE ROWS

-- @query Tableau SELECT INTO probe (refused)
-- @expect error
-- statement does not return rows
SELECT *
INTO TEMPORARY TABLE "#Tableau_5_1_Connect"
FROM (SELECT 1 AS COL) AS CHECKTEMP
LIMIT 1

-- @query schemas (SQLTables)
-- @expect rows>=1
BEGIN;declare "SQL_CUR0x7f8e1c0" cursor with hold for select nspname from pg_catalog.pg_namespace n where nspname !~ '^pg_' and nspname <> 'information_schema' order by nspname;fetch 2048 in "SQL_CUR0x7f8e1c0"

-- @query close
close "SQL_CUR0x7f8e1c0";COMMIT

-- @query table list (SQLTables)
-- @expect rows>=3
BEGIN;declare "SQL_CUR04645D10" cursor with hold for select relname, nspname, relkind from pg_catalog.pg_class c, pg_catalog.pg_namespace n where relkind in ('r', 'v', 'm', 'f', 'p') and nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1') and n.oid = relnamespace order by nspname, relname;fetch 2048 in "SQL_CUR04645D10"

-- @query close
close "SQL_CUR04645D10";COMMIT

-- @query column metadata (SQLColumns)
-- @expect rows=13
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when 'd' then t.typbasetype else 0 end, t.typtypmod, c.relhasoids, '', c.relhassubclass from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.relname like 'orders' and n.nspname like 'sales') inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum > 0 and a.attrelid = c.oid) inner join pg_catalog.pg_type t on t.oid = a.atttypid) left outer join pg_attrdef d on a.atthasdef and d.adrelid = a.attrelid and d.adnum = a.attnum order by n.nspname, c.relname, attnum

-- @query unique indexes (SQLStatistics)
BEGIN;declare "SQL_CUR06145EE8" cursor with hold for select c.relname, i.indkey, i.indisunique, i.indisclustered, a.amname, c.relhasrules, n.nspname, c.oid, d.relhasoids, 0 from pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class d, pg_catalog.pg_am a, pg_catalog.pg_namespace n where d.relname = 'orders' and n.nspname = 'sales' and n.oid = d.relnamespace and d.oid = i.indrelid and i.indexrelid = c.oid and c.relam = a.oid order by i.indisprimary desc, i.indisunique, n.nspname, c.relname;fetch 2048 in "SQL_CUR06145EE8"

-- @query close
close "SQL_CUR06145EE8";COMMIT

-- @query primary key columns (SQLPrimaryKeys)
BEGIN;declare "SQL_CUR04AD8270" cursor with hold for select ta.attname, ia.attnum, ic.relname, n.nspname, tc.relname from pg_catalog.pg_attribute ta, pg_catalog.pg_attribute ia, pg_catalog.pg_class tc, pg_catalog.pg_index i, pg_catalog.pg_namespace n, pg_catalog.pg_class ic where tc.relname = 'orders' AND n.nspname = 'sales' AND tc.oid = i.indrelid AND n.oid = tc.relnamespace AND i.indisprimary = 't' AND ia.attrelid = i.indexrelid AND ta.attrelid = i.indrelid AND ta.attnum = i.indkey[ia.attnum-1] AND (NOT ta.attisdropped) AND (NOT ia.attisdropped) AND ic.oid = i.indexrelid order by ia.attnum;fetch 2048 in "SQL_CUR04AD8270"

-- @query close
close "SQL_CUR04AD8270";COMMIT

-- @query inheritance probe
SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i WHERE c.oid=i.inhparent AND i.inhrelid = '{oid:sales.orders}' ORDER BY inhseqno;

-- @query collation probe
-- @expect rows=1
show "lc_collate"

-- @query extract: data read in 2048-row fetches from a cursor with hold
-- @expect rows=2048
BEGIN;declare "SQL_CUR0x1a2b3c" cursor with hold for SELECT "lineitem"."l_orderkey" AS "l_orderkey", "lineitem"."l_quantity" AS "l_quantity", "lineitem"."l_shipdate" AS "l_shipdate" FROM "sales"."lineitem" "lineitem";fetch 2048 in "SQL_CUR0x1a2b3c"

-- @query next fetch
-- @expect rows=2048
fetch 2048 in "SQL_CUR0x1a2b3c"

-- @query close
close "SQL_CUR0x1a2b3c";COMMIT

-- @query a viz query (aggregate over a lake table)
-- @expect rows>=1
SELECT "lineitem"."l_returnflag" AS "l_returnflag", SUM("lineitem"."l_quantity") AS "sum:l_quantity:ok" FROM "sales"."lineitem" "lineitem" GROUP BY 1

-- @query DEALLOCATE of a prepared plan
DEALLOCATE "_PLAN0x7f8e1c10"
