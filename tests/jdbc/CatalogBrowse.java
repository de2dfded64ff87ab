// What a JDBC tool (DBeaver, Metabase, Tableau's JDBC connector) does on connect and browse:
// every DatabaseMetaData call over the `sales` schema. Prints one line per call; used by
// pg-adapter/dev/capture_replays.py to record the SQL pgJDBC sends.
//   java -cp /usr/share/java/postgresql.jar tests/jdbc/CatalogBrowse.java <jdbc-url> <user> <password>

import java.sql.*;
import java.util.*;

public class CatalogBrowse {
    static int count(ResultSet rs) throws SQLException {
        int n = 0;
        try (rs) {
            while (rs.next()) n++;
        }
        return n;
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("sslmode", "disable");
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData md = conn.getMetaData();
            System.out.println("product " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            System.out.println("catalogs " + count(md.getCatalogs()));
            System.out.println("schemas " + count(md.getSchemas()));
            System.out.println("schemas sal% " + count(md.getSchemas(null, "sal%")));
            System.out.println("table types " + count(md.getTableTypes()));
            System.out.println("tables sales " + count(md.getTables(null, "sales", "%", new String[] {"TABLE", "VIEW"})));
            System.out.println("tables all " + count(md.getTables(null, null, "%", null)));
            System.out.println("columns " + count(md.getColumns(null, "sales", "orders", "%")));
            System.out.println("primary keys " + count(md.getPrimaryKeys(null, "sales", "orders")));
            System.out.println("imported keys " + count(md.getImportedKeys(null, "sales", "orders")));
            System.out.println("exported keys " + count(md.getExportedKeys(null, "sales", "orders")));
            System.out.println("indexes " + count(md.getIndexInfo(null, "sales", "orders", false, true)));
            System.out.println("types " + count(md.getTypeInfo()));
            System.out.println("functions " + count(md.getFunctions(null, "sales", "%")));
            System.out.println("procedures " + count(md.getProcedures(null, "sales", "%")));
            System.out.println("keywords " + md.getSQLKeywords().length());
            System.out.println("isolation " + conn.getTransactionIsolation());
            System.out.println("catalog " + conn.getCatalog() + " schema " + conn.getSchema());
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM sales.orders")) {
                ResultSetMetaData m = rs.getMetaData();
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    System.out.println("result column " + m.getColumnName(i) + " " + m.getColumnTypeName(i)
                        + " table=" + m.getTableName(i) + " nullable=" + m.isNullable(i));
                }
            }
        }
    }
}
