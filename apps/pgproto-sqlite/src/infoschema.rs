//! `information_schema`, live: temporary views over the [`catalog`](crate::catalog)'s
//! tables, named `pg_is_<view>` (the syntax-tree pass of [`crate::pgsql`] turns
//! `information_schema.tables` into `pg_is_tables`, so that a user's own `tables` table
//! stays theirs): `schemata`, `tables`, `columns`, `views`, `table_constraints`,
//! `key_column_usage`, `referential_constraints`, `constraint_column_usage` and
//! `sequences`, with PostgreSQL 15's columns. Type facts (`data_type`,
//! `character_maximum_length`, `numeric_precision`...) come from SQL functions
//! registered by [`register_functions`]. PostgreSQL's `cardinal_number` columns
//! (positions, lengths, precisions) are `CAST(... AS INT4)`, which SQLite declares `INT`
//! in a view, so that they are described as int4 as PostgreSQL describes them (Diesel
//! reads `character_maximum_length` in binary as a 4-byte integer).

use rusqlite::Connection;

use crate::types::{
    BOOL, BPCHAR, BYTEA, DATE, FLOAT4, FLOAT8, INT2, INT4, INT8, INTERVAL, JSON, JSONB, NUMERIC,
    TEXT, TIME, TIMESTAMP, TIMESTAMPTZ, UUID, VARCHAR,
};

/// The views' names, as `information_schema` has them.
pub(crate) const VIEWS: &[&str] = &[
    "schemata",
    "tables",
    "columns",
    "views",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
    "sequences",
];

/// The views (created with the catalog).
pub(crate) const DDL: &str = "
CREATE TEMP VIEW pg_is_schemata AS SELECT current_database() AS catalog_name,
  nspname AS schema_name, (SELECT rolname FROM pg_authid WHERE oid = nspowner) AS schema_owner,
  NULL AS default_character_set_catalog, NULL AS default_character_set_schema,
  NULL AS default_character_set_name, NULL AS sql_path FROM pg_namespace;
CREATE TEMP VIEW pg_is_tables AS SELECT current_database() AS table_catalog,
  'public' AS table_schema, c.relname AS table_name,
  CASE c.relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type,
  NULL AS self_referencing_column_name, NULL AS reference_generation,
  NULL AS user_defined_type_catalog, NULL AS user_defined_type_schema,
  NULL AS user_defined_type_name,
  CASE WHEN c.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into,
  'NO' AS is_typed, NULL AS commit_action
  FROM pg_class c WHERE c.relkind IN ('r', 'v');
CREATE TEMP VIEW pg_is_columns AS SELECT current_database() AS table_catalog,
  'public' AS table_schema, c.relname AS table_name, a.attname AS column_name,
  CAST(a.attnum AS INT4) AS ordinal_position,
  CASE WHEN a.attidentity = '' THEN (SELECT d.adbin FROM pg_attrdef d
    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum) END AS column_default,
  CASE WHEN a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) THEN 'NO' ELSE 'YES' END
    AS is_nullable,
  pg_is_data_type(b.oid, b.typtype) AS data_type,
  CAST(pg_is_char_max(b.oid, a.eff_mod) AS INT4) AS character_maximum_length,
  CAST(pg_is_char_octet(b.oid, a.eff_mod) AS INT4) AS character_octet_length,
  CAST(pg_is_num_precision(b.oid, a.eff_mod) AS INT4) AS numeric_precision,
  CAST(pg_is_num_radix(b.oid) AS INT4) AS numeric_precision_radix,
  CAST(pg_is_num_scale(b.oid, a.eff_mod) AS INT4) AS numeric_scale,
  CAST(pg_is_dt_precision(b.oid, a.eff_mod) AS INT4) AS datetime_precision,
  NULL AS interval_type, NULL AS interval_precision, NULL AS character_set_catalog,
  NULL AS character_set_schema, NULL AS character_set_name, NULL AS collation_catalog,
  NULL AS collation_schema, NULL AS collation_name,
  CASE WHEN t.typtype = 'd' THEN current_database() END AS domain_catalog,
  CASE WHEN t.typtype = 'd' THEN 'public' END AS domain_schema,
  CASE WHEN t.typtype = 'd' THEN t.typname END AS domain_name,
  current_database() AS udt_catalog,
  CASE WHEN b.typnamespace = 2200 THEN 'public' ELSE 'pg_catalog' END AS udt_schema,
  b.typname AS udt_name, NULL AS scope_catalog, NULL AS scope_schema, NULL AS scope_name,
  NULL AS maximum_cardinality, CAST(a.attnum AS TEXT) AS dtd_identifier,
  'NO' AS is_self_referencing,
  CASE WHEN a.attidentity = '' THEN 'NO' ELSE 'YES' END AS is_identity,
  CASE a.attidentity WHEN 'd' THEN 'BY DEFAULT' WHEN 'a' THEN 'ALWAYS' END
    AS identity_generation,
  CASE WHEN a.attidentity <> '' THEN CAST(s.seqstart AS TEXT) END AS identity_start,
  CASE WHEN a.attidentity <> '' THEN CAST(s.seqincrement AS TEXT) END AS identity_increment,
  CASE WHEN a.attidentity <> '' THEN CAST(s.seqmax AS TEXT) END AS identity_maximum,
  CASE WHEN a.attidentity <> '' THEN CAST(s.seqmin AS TEXT) END AS identity_minimum,
  CASE WHEN a.attidentity <> '' AND s.seqcycle THEN 'YES' ELSE 'NO' END AS identity_cycle,
  'NEVER' AS is_generated, NULL AS generation_expression,
  CASE WHEN c.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
  FROM (SELECT a.*, CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END AS eff_oid,
        CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS eff_mod
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid) a
  JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'v')
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type b ON b.oid = a.eff_oid
  LEFT JOIN pg_class sc ON sc.relkind = 'S' AND sc.relname = c.relname || '_' || a.attname || '_seq'
  LEFT JOIN pg_sequence s ON s.seqrelid = sc.oid
  WHERE a.attnum > 0;
CREATE TEMP VIEW pg_is_views AS SELECT current_database() AS table_catalog,
  'public' AS table_schema, c.relname AS table_name,
  (SELECT def FROM pg_catalog_defs d WHERE d.oid = c.oid) AS view_definition,
  'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into,
  'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable,
  'NO' AS is_trigger_insertable_into
  FROM pg_class c WHERE c.relkind = 'v';
CREATE TEMP VIEW pg_is_table_constraints AS SELECT current_database() AS constraint_catalog,
  'public' AS constraint_schema, CAST(con.conname AS TEXT) AS constraint_name,
  current_database() AS table_catalog, 'public' AS table_schema,
  CAST(c.relname AS TEXT) AS table_name,
  CASE con.contype WHEN 'c' THEN 'CHECK' WHEN 'f' THEN 'FOREIGN KEY' WHEN 'p' THEN 'PRIMARY KEY'
    ELSE 'UNIQUE' END AS constraint_type,
  'NO' AS is_deferrable, 'NO' AS initially_deferred, 'YES' AS enforced,
  CAST(CASE WHEN con.contype = 'u' THEN 'YES' END AS TEXT) AS nulls_distinct
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
  UNION ALL
  SELECT current_database(), 'public',
  CAST('2200_' || c.oid || '_' || a.attnum || '_not_null' AS TEXT),
  current_database(), 'public', CAST(c.relname AS TEXT), 'CHECK', 'NO', 'NO', 'YES',
  CAST(NULL AS TEXT)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  WHERE a.attnotnull AND c.relkind = 'r' AND a.attnum > 0;
CREATE TEMP VIEW pg_is_key_column_usage AS SELECT current_database() AS constraint_catalog,
  'public' AS constraint_schema, con.conname AS constraint_name,
  current_database() AS table_catalog, 'public' AS table_schema, c.relname AS table_name,
  a.attname AS column_name, CAST(k.key + 1 AS INT4) AS ordinal_position,
  CAST(CASE WHEN con.contype = 'f' THEN (
    SELECT u.key + 1 FROM pg_constraint r, json_each('[' || trim(r.conkey, '{}') || ']') u
    WHERE r.conrelid = con.confrelid AND r.contype IN ('p', 'u')
      AND u.value = json_extract('[' || trim(con.confkey, '{}') || ']', '$[' || k.key || ']')
    ORDER BY r.contype LIMIT 1) END AS INT4) AS position_in_unique_constraint
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid,
  json_each('[' || trim(con.conkey, '{}') || ']') k
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.value
  WHERE con.contype IN ('p', 'u', 'f');
CREATE TEMP VIEW pg_is_referential_constraints AS SELECT
  current_database() AS constraint_catalog, 'public' AS constraint_schema,
  con.conname AS constraint_name, current_database() AS unique_constraint_catalog,
  'public' AS unique_constraint_schema,
  (SELECT r.conname FROM pg_constraint r WHERE r.conrelid = con.confrelid
    AND r.contype IN ('p', 'u') AND r.conkey = con.confkey ORDER BY r.contype LIMIT 1)
    AS unique_constraint_name,
  'NONE' AS match_option,
  CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
    WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS update_rule,
  CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
    WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS delete_rule
  FROM pg_constraint con WHERE con.contype = 'f';
CREATE TEMP VIEW pg_is_constraint_column_usage AS SELECT current_database() AS table_catalog,
  'public' AS table_schema, c.relname AS table_name, a.attname AS column_name,
  current_database() AS constraint_catalog, 'public' AS constraint_schema,
  con.conname AS constraint_name
  FROM pg_constraint con,
  json_each('[' || trim(CASE WHEN con.contype = 'f' THEN con.confkey ELSE con.conkey END, '{}')
    || ']') k
  JOIN pg_class c ON c.oid = CASE WHEN con.contype = 'f' THEN con.confrelid ELSE con.conrelid END
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.value;
CREATE TEMP VIEW pg_is_sequences AS SELECT current_database() AS sequence_catalog,
  'public' AS sequence_schema, c.relname AS sequence_name,
  format_type(s.seqtypid, NULL) AS data_type,
  CASE s.seqtypid WHEN 21 THEN 16 WHEN 23 THEN 32 ELSE 64 END AS numeric_precision,
  2 AS numeric_precision_radix, 0 AS numeric_scale,
  CAST(s.seqstart AS TEXT) AS start_value, CAST(s.seqmin AS TEXT) AS minimum_value,
  CAST(s.seqmax AS TEXT) AS maximum_value, CAST(s.seqincrement AS TEXT) AS increment,
  CASE WHEN s.seqcycle THEN 'YES' ELSE 'NO' END AS cycle_option
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
  WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
    WHERE a.attidentity <> '' AND t.relname || '_' || a.attname || '_seq' = c.relname);
";

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// `data_type` for a type OID (a domain's base type) and its `typtype`.
fn data_type(oid: u32, typtype: &str) -> String {
    match typtype {
        "e" => return "USER-DEFINED".to_string(),
        "d" => return "USER-DEFINED".to_string(),
        _ => {}
    }
    match oid {
        INT4 => "integer",
        INT8 => "bigint",
        INT2 => "smallint",
        TEXT => "text",
        VARCHAR => "character varying",
        BPCHAR => "character",
        NUMERIC => "numeric",
        BOOL => "boolean",
        FLOAT8 => "double precision",
        FLOAT4 => "real",
        DATE => "date",
        TIME => "time without time zone",
        TIMESTAMP => "timestamp without time zone",
        TIMESTAMPTZ => "timestamp with time zone",
        INTERVAL => "interval",
        UUID => "uuid",
        JSON => "json",
        JSONB => "jsonb",
        BYTEA => "bytea",
        19 => "name",
        26 => "oid",
        18 => "\"char\"",
        _ if crate::types::array_element(oid).is_some() => "ARRAY",
        _ => return crate::catalog::format_type(i64::from(oid), None).unwrap_or_default(),
    }
    .to_string()
}

/// Registers `pg_is_data_type(oid, typtype)`, `pg_is_char_max(oid, typmod)`,
/// `pg_is_char_octet`, `pg_is_num_precision`, `pg_is_num_radix(oid)`,
/// `pg_is_num_scale` and `pg_is_dt_precision`: PostgreSQL's `information_schema`
/// functions of a type and typmod.
pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_is_data_type", 2, flags, |ctx| {
        let oid: Option<i64> = ctx.get(0)?;
        let typtype: Option<String> = ctx.get(1)?;
        Ok(oid.map(|o| data_type(u32_of(o), typtype.as_deref().unwrap_or("b"))))
    })?;
    let args = |ctx: &rusqlite::functions::Context<'_>| -> rusqlite::Result<(u32, i64)> {
        let oid: Option<i64> = ctx.get(0)?;
        let typmod: Option<i64> = if ctx.len() > 1 { ctx.get(1)? } else { None };
        Ok((u32_of(oid.unwrap_or(0)), typmod.unwrap_or(-1)))
    };
    conn.create_scalar_function("pg_is_char_max", 2, flags, move |ctx| {
        let (oid, typmod) = args(ctx)?;
        Ok(match oid {
            VARCHAR | BPCHAR if typmod >= 4 => Some(typmod - 4),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_is_char_octet", 2, flags, move |ctx| {
        let (oid, typmod) = args(ctx)?;
        Ok(match oid {
            VARCHAR | BPCHAR if typmod >= 4 => Some((typmod - 4) * 4),
            VARCHAR | BPCHAR | TEXT => Some(1_073_741_824),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_is_num_precision", 2, flags, move |ctx| {
        let (oid, typmod) = args(ctx)?;
        Ok(match oid {
            INT2 => Some(16),
            INT4 => Some(32),
            INT8 => Some(64),
            FLOAT4 => Some(24),
            FLOAT8 => Some(53),
            NUMERIC if typmod >= 4 => Some(((typmod - 4) >> 16) & 0xffff),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_is_num_radix", 1, flags, move |ctx| {
        let (oid, _) = args(ctx)?;
        Ok(match oid {
            INT2 | INT4 | INT8 | FLOAT4 | FLOAT8 => Some(2),
            NUMERIC => Some(10),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_is_num_scale", 2, flags, move |ctx| {
        let (oid, typmod) = args(ctx)?;
        Ok(match oid {
            INT2 | INT4 | INT8 => Some(0),
            NUMERIC if typmod >= 4 => Some((typmod - 4) & 0xffff),
            _ => None,
        })
    })?;
    conn.create_scalar_function("pg_is_dt_precision", 2, flags, move |ctx| {
        let (oid, typmod) = args(ctx)?;
        Ok(match oid {
            DATE => Some(0),
            TIME | TIMESTAMP | TIMESTAMPTZ | INTERVAL if typmod >= 0 => Some(typmod & 0xffff),
            TIME | TIMESTAMP | TIMESTAMPTZ | INTERVAL => Some(6),
            _ => None,
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_facts() {
        assert_eq!(data_type(INT4, "b"), "integer");
        assert_eq!(data_type(12345, "e"), "USER-DEFINED");
        assert_eq!(data_type(TIMESTAMPTZ, "b"), "timestamp with time zone");
        assert_eq!(data_type(1007, "b"), "ARRAY");
    }

    #[test]
    fn array_columns_are_listed() {
        let conn = crate::catalog::tests::installed();
        crate::catalog::register_functions(&conn).unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (id int, xs integer[], ys bigint[] NOT NULL);")
            .unwrap();
        crate::catalog::refresh(&conn).unwrap();
        let mut st = conn
            .prepare(
                "SELECT column_name || ' ' || data_type || ' ' || udt_schema || '.' || udt_name
                 || ' ' || is_nullable FROM pg_is_columns WHERE table_name = 't'
                 ORDER BY ordinal_position",
            )
            .unwrap();
        let rows: Vec<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            [
                "id integer pg_catalog.int4 YES",
                "xs ARRAY pg_catalog._int4 YES",
                "ys ARRAY pg_catalog._int8 NO"
            ]
        );
    }

    #[test]
    fn cardinal_numbers_are_described_as_int4() {
        let conn = crate::catalog::tests::installed();
        crate::catalog::register_functions(&conn).unwrap();
        register_functions(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE a (id int PRIMARY KEY, name varchar(10));
             CREATE TABLE b (a_id int REFERENCES a (id));",
        )
        .unwrap();
        crate::catalog::refresh(&conn).unwrap();
        for (sql, rows) in [
            (
                "SELECT ordinal_position, character_maximum_length, character_octet_length,
                 numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision
                 FROM pg_is_columns ORDER BY table_name, ordinal_position",
                "1,,,32,2,0,|2,10,40,,,,|1,,,32,2,0,",
            ),
            (
                "SELECT pg_is_key_column_usage.ordinal_position, position_in_unique_constraint
                 FROM pg_is_key_column_usage ORDER BY constraint_name",
                "1,|1,1",
            ),
        ] {
            // SQLite declares no type for a view's expression column, but lists `INT` for
            // it in `pragma_table_info`, from which the session guesses.
            let table_columns = |t: &str| crate::session::table_columns(&conn, t);
            let referenced = crate::sql::referenced_columns(sql, table_columns);
            let items = crate::sql::result_items(sql, &referenced, &|_| None);
            let n = conn.prepare(sql).unwrap().column_count();
            assert_eq!(items.len(), n, "{sql}");
            for (i, item) in items.iter().enumerate() {
                let oid = item.type_name.as_deref().map(crate::types::oid_for_decl);
                assert_eq!(oid, Some(INT4), "column {i} of {sql}");
            }
            let mut st = conn.prepare(sql).unwrap();
            let n = st.column_count();
            let values: Vec<String> = st
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| r.get::<_, Option<i64>>(i).map(|v| v.map(|v| v.to_string())))
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .map(Option::unwrap_or_default)
                        .collect::<Vec<_>>()
                        .join(","))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(values.join("|"), rows, "{sql}");
        }
    }
}
