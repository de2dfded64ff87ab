import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Query Tavana from Java with pgJDBC through the pg-adapter.
 *
 * <pre>
 * TAVANA_PASSWORD=... java -cp postgresql.jar clients/java/PgJdbcExample.java
 * </pre>
 *
 * Settings (environment): TAVANA_JDBC_URL (default jdbc:postgresql://127.0.0.1:15432/tavana),
 * TAVANA_USER (default tavana), TAVANA_PASSWORD, and TAVANA_SAMPLE, the folder holding the sample
 * trips_*.parquet (default ./tavana-data/sample, where `tavana up` writes them).
 */
public final class PgJdbcExample {
    public static void main(String[] args) throws SQLException {
        String url = env("TAVANA_JDBC_URL", "jdbc:postgresql://127.0.0.1:15432/tavana");
        String sample = java.nio.file.Path.of(env("TAVANA_SAMPLE", "tavana-data/sample"))
                .toAbsolutePath().normalize().toString();
        String trips = "read_parquet('" + sample + "/trips_*.parquet')";
        Properties props = new Properties();
        props.setProperty("user", env("TAVANA_USER", "tavana"));
        props.setProperty("password", System.getenv("TAVANA_PASSWORD"));

        try (Connection conn = DriverManager.getConnection(url, props)) {
            // 1. A prepared statement with a parameter.
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT city, count(*) AS trips FROM " + trips
                            + " WHERE distance_km >= ? GROUP BY city ORDER BY trips DESC, city")) {
                ps.setBigDecimal(1, new java.math.BigDecimal("5"));
                try (ResultSet rs = ps.executeQuery()) {
                    System.out.println("trips of 5 km or more by city:");
                    while (rs.next()) {
                        System.out.printf("  %-12s %6d%n", rs.getString("city"), rs.getLong("trips"));
                    }
                }
            }

            // 2. A large result in pages: with autocommit off and a fetch size, pgJDBC fetches
            //    1,000 rows at a time instead of the whole result.
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.setFetchSize(1000);
                long rows = 0;
                try (ResultSet rs = st.executeQuery("SELECT trip_id, started_at FROM " + trips)) {
                    while (rs.next()) {
                        rows++;
                    }
                }
                System.out.println("read " + rows + " rows 1000 at a time");
            }
            conn.commit();

            // 3. Errors carry PostgreSQL SQLSTATEs.
            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELECT * FROM no_such_table");
            } catch (SQLException e) {
                System.out.println("error, as expected: SQLSTATE " + e.getSQLState());
                conn.rollback();
            }
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
