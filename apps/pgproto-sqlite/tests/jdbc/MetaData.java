import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * What a database tool (DBeaver, DataGrip, Metabase) reads through pgjdbc's
 * DatabaseMetaData, printed in a stable order: one "== section" line, then one line per
 * row with every column as label=value. A section that fails prints its SQLSTATE and
 * message instead, and the next one runs. Usage: MetaData JDBC_URL (the schema of
 * tests/jdbc.rs must exist).
 */
public class MetaData {
    /** The types printed from getTypeInfo: the ones pgproto-sqlite implements, and the enum. */
    static final Set<String> TYPES = new HashSet<>(Arrays.asList(
        "bool", "bytea", "char", "name", "int8", "int2", "int4", "text", "oid", "json",
        "float4", "float8", "bpchar", "varchar", "date", "time", "timestamp", "timestamptz",
        "interval", "numeric", "uuid", "jsonb", "mood"));

    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0])) {
            DatabaseMetaData md = conn.getMetaData();
            section("getSchemas", () -> print(md.getSchemas(), null));
            section("getTables", () -> print(md.getTables(null, "public", "%", null), null));
            section("getColumns", () -> print(md.getColumns(null, "public", "%", "%"), null));
            for (String t : new String[] {"authors", "books"}) {
                section("getPrimaryKeys " + t, () -> print(md.getPrimaryKeys(null, "public", t), null));
                section("getImportedKeys " + t, () -> print(md.getImportedKeys(null, "public", t), null));
                section("getExportedKeys " + t, () -> print(md.getExportedKeys(null, "public", t), null));
                section("getIndexInfo " + t, () -> print(md.getIndexInfo(null, "public", t, false, false), null));
            }
            section("getTypeInfo", () -> print(md.getTypeInfo(), "TYPE_NAME"));
            section("prepared statement", () -> prepared(conn));
            section("copy", () -> copy(conn));
        }
    }

    interface Body {
        void run() throws Exception;
    }

    static void section(String name, Body body) {
        System.out.println("== " + name);
        try {
            body.run();
        } catch (SQLException e) {
            System.out.println("error: " + e.getSQLState() + " " + e.getMessage());
        } catch (Exception e) {
            System.out.println("error: " + e);
        }
    }

    /** Every row of rs; with filter, only the rows whose column filter is in TYPES. */
    static void print(ResultSet rs, String filter) throws SQLException {
        ResultSetMetaData m = rs.getMetaData();
        int rows = 0;
        while (rs.next()) {
            if (filter != null && !TYPES.contains(rs.getString(filter))) {
                continue;
            }
            StringBuilder line = new StringBuilder();
            for (int i = 1; i <= m.getColumnCount(); i++) {
                if (i > 1) {
                    line.append(" | ");
                }
                line.append(m.getColumnLabel(i).toLowerCase()).append('=').append(rs.getString(i));
            }
            System.out.println(line);
            rows++;
        }
        System.out.println("(" + rows + " rows)");
        rs.close();
    }

    static void prepared(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT b.id, b.title, b.price, b.uid, b.published, a.name, a.born, b.m "
                + "FROM books b JOIN authors a ON a.id = b.author_id "
                + "WHERE b.author_id = ? AND b.price > ? AND b.title LIKE ? ORDER BY b.id")) {
            ParameterMetaData p = ps.getParameterMetaData();
            for (int i = 1; i <= p.getParameterCount(); i++) {
                System.out.println("parameter " + i + ": type=" + p.getParameterType(i)
                    + " typename=" + p.getParameterTypeName(i)
                    + " class=" + p.getParameterClassName(i)
                    + " mode=" + p.getParameterMode(i)
                    + " nullable=" + p.isNullable(i)
                    + " signed=" + p.isSigned(i)
                    + " precision=" + p.getPrecision(i)
                    + " scale=" + p.getScale(i));
            }
            ResultSetMetaData m = ps.getMetaData();
            columns(m);
            ps.setInt(1, 1);
            ps.setBigDecimal(2, new java.math.BigDecimal("1.5"));
            ps.setString(3, "%");
            try (ResultSet rs = ps.executeQuery()) {
                columns(rs.getMetaData());
                print(rs, null);
            }
        }
    }

    static void columns(ResultSetMetaData m) throws SQLException {
        for (int i = 1; i <= m.getColumnCount(); i++) {
            System.out.println("column " + i + ": name=" + m.getColumnName(i)
                + " label=" + m.getColumnLabel(i)
                + " type=" + m.getColumnType(i)
                + " typename=" + m.getColumnTypeName(i)
                + " class=" + m.getColumnClassName(i)
                + " precision=" + m.getPrecision(i)
                + " scale=" + m.getScale(i)
                + " displaysize=" + m.getColumnDisplaySize(i)
                + " nullable=" + m.isNullable(i)
                + " autoincrement=" + m.isAutoIncrement(i)
                + " signed=" + m.isSigned(i)
                + " casesensitive=" + m.isCaseSensitive(i)
                + " table=" + m.getTableName(i)
                + " schema=" + m.getSchemaName(i)
                + " base=" + ((org.postgresql.PGResultSetMetaData) m).getBaseColumnName(i)
                + " basetable=" + ((org.postgresql.PGResultSetMetaData) m).getBaseTableName(i));
        }
    }

    /** COPY books TO STDOUT, that text into books_copy FROM STDIN, and books_copy out again. */
    static void copy(Connection conn) throws Exception {
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        StringWriter out = new StringWriter();
        long n = copy.copyOut("COPY books TO STDOUT", out);
        System.out.println("copied out " + n + " rows:");
        System.out.print(out);
        long in = copy.copyIn("COPY books_copy FROM STDIN", new StringReader(out.toString()));
        System.out.println("copied in " + in + " rows");
        StringWriter again = new StringWriter();
        copy.copyOut("COPY books_copy TO STDOUT (FORMAT csv, HEADER true)", again);
        System.out.print(again);
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM books_copy WHERE uid IS NOT NULL")) {
            print(rs, null);
        }
    }
}
