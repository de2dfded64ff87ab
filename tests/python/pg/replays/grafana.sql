-- Grafana's PostgreSQL data source: health check, version and TimescaleDB detection, and the
-- query editor's table and column pickers (older and newer forms). Transcribed from
-- grafana/public/app/plugins/datasource/grafana-postgresql-datasource (meta queries) and
-- pkg/tsdb/grafana-postgresql-datasource. Grafana uses lib/pq's simple protocol for these.

-- @query health check
-- @expect rows=1
SELECT 1

-- @query version
-- @expect rows=1
SELECT current_setting('server_version_num')::int/100 as version

-- @query timescaledb detection
-- @expect rows=0
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'

-- @query tables (older editor)
select quote_ident(table_name) as "table" from information_schema.tables
    where quote_ident(table_schema) not in ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
      and 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )

-- @query columns (older editor)
-- @expect rows>=13
select quote_ident(column_name) as "column", data_type as "type"
    from information_schema.columns
    where quote_ident(table_name) = 'orders'

-- @query tables (newer editor: schema-qualified when not on the search path)
-- @expect rows>=4
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1

-- @query columns (newer editor: a schema-qualified table)
-- @expect rows>=13
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('sales.orders'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('sales.orders'))[1]
          AND quote_ident(table_name) = (parse_ident('sales.orders'))[2]
        ELSE quote_ident(table_name) = 'sales.orders'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- @query a time series panel on a lake table
-- @expect rows>=1
SELECT date_trunc('month', l_shipdate) AS "time", sum(l_quantity) AS quantity FROM sales.lineitem WHERE l_shipdate BETWEEN '1995-01-01T00:00:00Z' AND '1995-12-31T23:59:59Z' GROUP BY 1 ORDER BY 1
