-- DBeaver's PostgreSQL plugin (over pgJDBC, extended protocol): connection set-up, navigator
-- (databases, schemas, data types, tables, columns, constraints, indexes) and the SQL editor's
-- keyword and settings probes. Transcribed from DBeaver's org.jkiss.dbeaver.ext.postgresql
-- model (PostgreDatabase, PostgreSchema, PostgreTableBase, PostgreDataType).

-- @query pgjdbc start-up 1
-- @params []
SET extra_float_digits = 3

-- @query pgjdbc start-up 2
-- @params []
SET application_name = 'DBeaver 24.1.0 - Main <tavana>'

-- @query session
-- @params []
-- @expect rows=1
SELECT current_schema(),session_user

-- @query search path
-- @params []
-- @expect rows=1
SHOW search_path

-- @query server version
-- @params []
-- @expect rows=1
SELECT version()

-- @query databases
-- @params ["tavana"]
-- @expect rows=1
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate OR db.datname=$1 ORDER BY db.datname

-- @query settings
-- @params ["standard_conforming_strings"]
-- @expect rows=1
select * from pg_catalog.pg_settings where name=$1

-- @query schemas
-- @params []
-- @expect rows>=3
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname

-- @query array type lookup
-- @params []
-- @expect rows=1
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1007

-- @query data types
-- @params []
-- @expect rows>=100
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')

-- @query enum probe
-- @params []
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1

-- @query reltype probe
-- @params []
SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1

-- @query keywords
-- @params []
-- @expect rows=1
SELECT string_agg(word, ',') FROM pg_catalog.pg_get_keywords() WHERE word <> ALL ('{a,abs,absolute,action,add,all,alter,and,any,as,asc,between,by,case,cast,create,delete,desc,distinct,drop,else,end,exists,from,group,having,in,insert,into,is,join,like,not,null,on,or,order,select,set,table,then,union,update,values,when,where,with}'::text[])

-- @query tables of a schema
-- @params ["{oid:sales.orders}"]
-- @expect rows>=3
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=(SELECT relnamespace FROM pg_catalog.pg_class WHERE oid=$1::int8) AND c.relkind not in ('i','I','c')

-- @query table statistics
-- @params ["{oid:sales.orders}"]
select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size
FROM pg_class c
WHERE c.relnamespace=(SELECT relnamespace FROM pg_catalog.pg_class WHERE oid=$1::int8)

-- @query columns of a table
-- @params ["{oid:sales.orders}"]
-- @expect rows=13
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=$1::int8
ORDER BY a.attnum

-- @query constraints of a table
-- @params ["{oid:sales.orders}"]
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid=$1::int8
ORDER BY c.oid

-- @query indexes of a table
-- @params ["{oid:sales.orders}"]
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid=$1::int8 ORDER BY tabrelname, c.relname

-- @query view definition
-- @params ["{oid:sales.v}"]
-- @expect rows=1
SELECT pg_catalog.pg_get_viewdef($1::int8, true) AS definition

-- @query data editor: first page of a table
-- @params []
-- @expect rows=1
SELECT * FROM sales.orders LIMIT 200
