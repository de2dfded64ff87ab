// pgJDBC against the Tavana pg-adapter. Run by tests/python/pg/test_jdbc.py:
//   java -cp /usr/share/java/postgresql.jar tests/jdbc/PgJdbcTest.java <jdbc-url> <user> <password>
// Exits non-zero (with a message) on the first failed check.

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

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("sslmode", "disable");
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
            pageThrough(conn, 10001, 1000);
            pageThrough(conn, 2000, 1000);
            DatabaseMetaData md = conn.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "product name");
            try (ResultSet rs = md.getSchemas()) {
                int n = 0;
                while (rs.next()) n++;
                check(n >= 1, "schemas listed");
            }
            try (ResultSet rs = md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) { /* listing must not fail */ }
            }
            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELEC 1");
                check(false, "syntax error expected");
            } catch (SQLException e) {
                check("42601".equals(e.getSQLState()), "syntax error SQLSTATE: " + e.getSQLState());
            }
        }
        System.out.println("OK");
    }
}
