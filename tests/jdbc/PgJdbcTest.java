// pgJDBC against the Tavana pg-adapter. Run by tests/python/pg/test_jdbc.py:
//   java -cp /usr/share/java/postgresql.jar tests/jdbc/PgJdbcTest.java <jdbc-url> <user> <password> [checks|page <rows>]
// `checks` (the default) runs queries, parameters, fetch-size paging over 10,001 and 2,000 rows,
// DatabaseMetaData over the `sales` schema the test creates, and SQLSTATEs; `page <rows>` pages
// through `range(<rows>)` with setFetchSize(1000) and prints the row count (the Python side
// samples the adapter's memory meanwhile). Exits non-zero (with a message) on the first failed check.

import java.sql.*;
import java.util.*;

public class PgJdbcTest {
    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static long pageThrough(Connection conn, int rows, int fetchSize) throws SQLException {
        conn.setAutoCommit(false); // pgJDBC only uses portals (fetch size) inside a transaction
        long count = 0, sum = 0;
        try (PreparedStatement ps = conn.prepareStatement("SELECT range AS i FROM range(?)")) {
            ps.setInt(1, rows);
            ps.setFetchSize(fetchSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    check(rs.getLong(1) == count, "row " + count + " out of order");
                    sum += rs.getLong(1);
                    count++;
                }
            }
        }
        conn.commit();
        conn.setAutoCommit(true);
        check(count == rows, "expected " + rows + " rows, got " + count);
        check(sum == (long) rows * (rows - 1) / 2, "wrong sum");
        return count;
    }

    static List<List<String>> rows(ResultSet rs, String... columns) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (String c : columns) row.add(rs.getString(c));
                out.add(row);
            }
        }
        return out;
    }

    static void metadata(Connection conn) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        check(md.getDatabaseProductName().equals("PostgreSQL"), "product name");
        List<String> schemas = new ArrayList<>();
        for (List<String> r : rows(md.getSchemas(), "TABLE_SCHEM")) schemas.add(r.get(0));
        check(schemas.contains("sales") && schemas.contains("main") && schemas.contains("pg_catalog"),
            "getSchemas: " + schemas);
        check(rows(md.getSchemas(null, "sal%"), "TABLE_SCHEM").equals(List.of(List.of("sales"))),
            "getSchemas(sal%)");
        List<List<String>> tables = rows(md.getTables(null, "sales", "%", new String[] {"TABLE", "VIEW"}),
            "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS");
        List<List<String>> expected = new ArrayList<>();
        expected.add(Arrays.asList("sales", "lineitem", "TABLE", null));
        expected.add(Arrays.asList("sales", "orders", "TABLE", "Orders from the lake"));
        expected.add(Arrays.asList("sales", "types", "TABLE", null));
        expected.add(Arrays.asList("sales", "v", "VIEW", null));
        check(tables.equals(expected), "getTables: " + tables);
        List<List<String>> columns = rows(md.getColumns(null, "sales", "orders", "%"),
            "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS", "IS_NULLABLE",
            "ORDINAL_POSITION", "REMARKS");
        String[][] want = {
            {"id", "" + Types.INTEGER, "int4", "10", "0", "NO", "1", null},
            {"name", "" + Types.VARCHAR, "varchar", "2147483647", "0", "YES", "2", null},
            {"amount", "" + Types.NUMERIC, "numeric", "10", "2", "YES", "3", "Order total"},
            {"day", "" + Types.DATE, "date", "13", "0", "YES", "4", null},
            {"ts", "" + Types.TIMESTAMP, "timestamp", "29", "6", "YES", "5", null},
            {"tstz", "" + Types.TIMESTAMP, "timestamptz", "35", "6", "YES", "6", null},
            {"flag", "" + Types.BIT, "bool", "1", "0", "YES", "7", null},
            {"big", "" + Types.BIGINT, "int8", "19", "0", "YES", "8", null},
            {"small", "" + Types.SMALLINT, "int2", "5", "0", "YES", "9", null},
            {"d", "" + Types.DOUBLE, "float8", "17", "17", "YES", "10", null},
            {"r", "" + Types.REAL, "float4", "8", "8", "YES", "11", null},
            {"t", "" + Types.VARCHAR, "varchar", "2147483647", "0", "YES", "12", null},
            {"b", "" + Types.BINARY, "bytea", "2147483647", "0", "YES", "13", null},
        };
        check(columns.size() == want.length, "getColumns count: " + columns);
        for (int i = 0; i < want.length; i++) {
            check(columns.get(i).equals(Arrays.asList(want[i])),
                "getColumns row " + i + ": " + columns.get(i) + " expected " + Arrays.asList(want[i]));
        }
        // The lake table's columns come from its Parquet files.
        List<List<String>> lake = rows(md.getColumns(null, "sales", "lineitem", "l_ship%"), "COLUMN_NAME", "TYPE_NAME");
        check(lake.equals(List.of(List.of("l_shipdate", "date"), List.of("l_shipinstruct", "varchar"),
            List.of("l_shipmode", "varchar"))), "lineitem columns: " + lake);
        // Patterns escape `_` with the search string escape (`\`), as DBeaver and others do for
        // names with underscores; `_` unescaped is a one-character wildcard.
        String esc = md.getSearchStringEscape();
        List<List<String>> escaped = rows(md.getColumns(null, "sales", "lineitem", "l" + esc + "_shipdat_"), "COLUMN_NAME");
        check(escaped.equals(List.of(List.of("l_shipdate"))), "escaped column pattern: " + escaped);
        check(rows(md.getColumns(null, "sales", "line" + esc + "_item", "%"), "COLUMN_NAME").isEmpty(),
            "an escaped underscore is not a wildcard");
        check(rows(md.getPrimaryKeys(null, "sales", "orders"), "COLUMN_NAME").isEmpty(), "no primary keys");
        check(rows(md.getImportedKeys(null, "sales", "orders"), "FK_NAME").isEmpty(), "no foreign keys");
        check(rows(md.getIndexInfo(null, "sales", "orders", false, true), "INDEX_NAME").isEmpty(), "no indexes");
        check(rows(md.getTableTypes(), "TABLE_TYPE").contains(List.of("TABLE")), "table types");
        check(rows(md.getTypeInfo(), "TYPE_NAME").size() > 100, "type info");
        check(md.getSQLKeywords().length() > 0, "keywords");
        check(conn.getTransactionIsolation() == Connection.TRANSACTION_READ_COMMITTED, "isolation");
        // Result metadata agrees with the catalog.
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM sales.orders")) {
            ResultSetMetaData m = rs.getMetaData();
            for (int i = 1; i <= m.getColumnCount(); i++) {
                check(m.getColumnTypeName(i).equals(want[i - 1][2]),
                    "result column " + i + " is " + m.getColumnTypeName(i) + ", catalog says " + want[i - 1][2]);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("sslmode", "disable");
        String mode = args.length > 3 ? args[3] : "checks";
        if (mode.equals("page")) {
            int n = Integer.parseInt(args[4]);
            try (Connection conn = DriverManager.getConnection(args[0], props)) {
                System.out.println("paged " + pageThrough(conn, n, 1000));
            }
            return;
        }
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 AS one, 'x' AS s, 1.5::DOUBLE AS d")) {
                check(rs.next(), "one row");
                check(rs.getInt("one") == 1 && rs.getString("s").equals("x") && rs.getDouble("d") == 1.5, "values");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT ?::INTEGER * 2 AS v, ? AS s, ?::DATE AS d")) {
                ps.setInt(1, 21);
                ps.setString(2, "hé");
                ps.setDate(3, java.sql.Date.valueOf("2024-02-29"));
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "prepared row");
                    check(rs.getInt(1) == 42, "int param");
                    check(rs.getString(2).equals("hé"), "string param");
                    check(rs.getDate(3).toString().equals("2024-02-29"), "date param: " + rs.getDate(3));
                }
            }
            // An array parameter (setArray) for an IN-list, and an array result (getArray).
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT list(i ORDER BY i) AS hits FROM range(10) t(i) WHERE i = ANY(?)")) {
                ps.setArray(1, conn.createArrayOf("int8", new Long[] {2L, 5L, 7L}));
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "array row");
                    Object[] hits = (Object[]) rs.getArray(1).getArray();
                    check(Arrays.asList(hits).equals(List.of(2L, 5L, 7L)), "array param: " + Arrays.asList(hits));
                }
            }
            pageThrough(conn, 10001, 1000);
            pageThrough(conn, 2000, 1000);
            metadata(conn);
            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELEC 1");
                check(false, "syntax error expected");
            } catch (SQLException e) {
                check("42601".equals(e.getSQLState()), "syntax error SQLSTATE: " + e.getSQLState());
            }
        }
        // autosave=always: pgJDBC sets a savepoint before each statement of a transaction and
        // rolls back to it when the statement fails, so the transaction goes on.
        Properties autosave = new Properties();
        autosave.putAll(props);
        autosave.setProperty("autosave", "always");
        try (Connection conn = DriverManager.getConnection(args[0], autosave)) {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                try {
                    st.executeQuery("SELECT 'x'::INTEGER");
                    check(false, "conversion error expected");
                } catch (SQLException e) {
                    check("22P02".equals(e.getSQLState()), "autosave error SQLSTATE: " + e.getSQLState());
                }
                try (ResultSet rs = st.executeQuery("SELECT 2 AS two")) {
                    check(rs.next() && rs.getInt(1) == 2, "the transaction goes on after a failed statement");
                }
            }
            conn.commit();
        }
        System.out.println("OK");
    }
}
