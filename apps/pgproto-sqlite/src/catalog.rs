//! `pg_catalog`, live: temporary SQLite tables (`pg_class`, `pg_attribute`, `pg_index`,
//! `pg_constraint`, ...) that hold the SQLite schema as PostgreSQL describes it, with
//! stable OIDs (a hash of the object's kind and name). They are filled again from
//! `sqlite_schema` and the `table_info`/`index_list`/`index_info`/`foreign_key_list`
//! pragmas whenever SQLite's schema version changed since they were last filled (see
//! [`refresh`], called before a statement that names a `pg_` object runs). Being
//! tables, they follow the transaction that reads them, and their declared types
//! (`bool`, `oid`, `name`...) describe the result columns. Temporary objects are not in
//! `sqlite_schema`, so the catalog never lists itself. The functions that do not need
//! catalog data (`format_type`, `pg_encoding_to_char`, `pg_regex`, arrays as text...)
//! are SQL functions registered by [`register_functions`]. The `pg_lookup_*` views name
//! their key `lookup_oid`, so that a lookup subquery (`(SELECT lookup_name FROM
//! pg_lookup_class WHERE lookup_oid = oid)`) never captures its argument's bare `oid`.

use rusqlite::{params, Connection, OptionalExtension};

/// OID of the `public` namespace.
const PUBLIC: i64 = 2200;
/// OID of the bootstrap superuser (the connected user here).
const SUPERUSER: i64 = 10;
/// OID of the `heap` access method.
const HEAP: i64 = 2;
/// OID of the `btree` access method.
const BTREE: i64 = 403;

/// The catalog's tables, created at open (empty) so that statements naming them prepare.
pub(crate) const DDL: &str = "
CREATE TEMP TABLE pg_catalog_state (version int8);
CREATE TEMP TABLE pg_catalog_defs (oid oid PRIMARY KEY, def text, pretty text);
CREATE TEMP TABLE pg_namespace (oid oid, nspname name, nspowner oid, nspacl text);
CREATE TEMP TABLE pg_class (oid oid PRIMARY KEY, relname name, relnamespace oid, reltype oid,
  reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages int4,
  reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, relisshared bool,
  relpersistence pgchar, relkind pgchar, relnatts int2, relchecks int2, relhasrules bool,
  relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool,
  relispopulated bool, relreplident pgchar, relispartition bool, relrewrite oid,
  relfrozenxid text, relminmxid text, relacl text, reloptions text, relpartbound text);
CREATE TEMP TABLE pg_attribute (attrelid oid, attname name, atttypid oid, attstattarget int4,
  attlen int2, attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool,
  attalign pgchar, attstorage pgchar, attcompression pgchar, attnotnull bool, atthasdef bool,
  atthasmissing bool, attidentity pgchar, attgenerated pgchar, attisdropped bool, attislocal bool,
  attinhcount int4, attcollation oid, attacl text, attoptions text, attfdwoptions text,
  attmissingval text);
CREATE TEMP TABLE pg_attrdef (oid oid, adrelid oid, adnum int2, adbin text);
CREATE TEMP TABLE pg_index (indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2,
  indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool,
  indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool,
  indislive bool, indisreplident bool, indkey text, indcollation text, indclass text,
  indoption text, indexprs text, indpred text);
CREATE TEMP TABLE pg_constraint (oid oid, conname name, connamespace oid, contype pgchar,
  condeferrable bool, condeferred bool, convalidated bool, conrelid oid, contypid oid,
  conindid oid, conparentid oid, confrelid oid, confupdtype pgchar, confdeltype pgchar,
  confmatchtype pgchar, conislocal bool, coninhcount int4, connoinherit bool, conkey text,
  confkey text, conbin text);
CREATE TEMP TABLE pg_type (oid oid, typname name, typnamespace oid, typowner oid, typlen int2,
  typbyval bool, typtype pgchar, typcategory pgchar, typisdefined bool, typdelim pgchar,
  typrelid oid, typelem oid, typarray oid, typnotnull bool, typbasetype oid, typtypmod int4,
  typndims int4, typcollation oid, typdefault text, typinput oid, typacl text);
CREATE TEMP TABLE pg_authid (oid oid, rolname name, rolsuper bool, rolinherit bool,
  rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool,
  rolbypassrls bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz);
CREATE TEMP VIEW pg_roles AS SELECT rolname, rolsuper, rolinherit, rolcreaterole,
  rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, '********' AS rolpassword,
  rolvaliduntil, rolbypassrls, NULL AS rolconfig, oid FROM pg_authid;
CREATE TEMP VIEW pg_user AS SELECT rolname AS usename, oid AS usesysid,
  rolcreatedb AS usecreatedb, rolsuper AS usesuper, rolreplication AS userepl,
  rolbypassrls AS usebypassrls, '********' AS passwd, rolvaliduntil AS valuntil,
  NULL AS useconfig FROM pg_authid WHERE rolcanlogin;
CREATE TEMP TABLE pg_auth_members (roleid oid, member oid, grantor oid, admin_option bool);
CREATE TEMP TABLE pg_database (oid oid, datname name, datdba oid, encoding int4,
  datlocprovider pgchar, datistemplate bool, datallowconn bool, datconnlimit int4,
  datcollate text, datctype text, daticulocale text, daticurules text, datcollversion text,
  datacl text);
CREATE TEMP TABLE pg_am (oid oid, amname name, amhandler text, amtype pgchar);
CREATE TEMP TABLE pg_opclass (oid oid, opcmethod oid, opcname name, opcnamespace oid,
  opcowner oid, opcfamily oid, opcintype oid, opcdefault bool, opckeytype oid);
CREATE TEMP TABLE pg_opfamily (oid oid, opfmethod oid, opfname name, opfnamespace oid,
  opfowner oid);
CREATE TEMP TABLE pg_collation (oid oid, collname name, collnamespace oid, collowner oid,
  collprovider pgchar, collisdeterministic bool, collencoding int4, collcollate text,
  collctype text);
CREATE TEMP TABLE pg_description (objoid oid, classoid oid, objsubid int4, description text);
CREATE TEMP TABLE pg_inherits (inhrelid oid, inhparent oid, inhseqno int4,
  inhdetachpending bool);
CREATE TEMP TABLE pg_trigger (oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid,
  tgtype int2, tgenabled pgchar, tgisinternal bool);
CREATE TEMP TABLE pg_policy (oid oid, polname name, polrelid oid, polcmd pgchar,
  polpermissive bool, polroles text, polqual text, polwithcheck text);
CREATE TEMP TABLE pg_statistic_ext (oid oid, stxrelid oid, stxname name, stxnamespace oid,
  stxowner oid, stxstattarget int4, stxkeys text, stxkind text);
CREATE TEMP TABLE pg_publication (oid oid, pubname name, pubowner oid, puballtables bool);
CREATE TEMP TABLE pg_publication_namespace (oid oid, pnpubid oid, pnnspid oid);
CREATE TEMP TABLE pg_publication_rel (oid oid, prpubid oid, prrelid oid, prqual text,
  prattrs text);
CREATE TEMP TABLE pg_proc (oid oid, proname name, pronamespace oid, prolang oid, prokind pgchar,
  proretset bool, prorettype oid, proargtypes text, proallargtypes text, proargmodes text,
  proargnames text, proargdefaults text, prosrc text);
CREATE TEMP TABLE pg_language (oid oid, lanname name, lanowner oid, lanispl bool,
  lanpltrusted bool);
CREATE TEMP TABLE pg_depend (classid oid, objid oid, objsubid int4, refclassid oid,
  refobjid oid, refobjsubid int4, deptype pgchar);
CREATE TEMP TABLE pg_setting_names (name text);
CREATE TEMP VIEW pg_settings AS SELECT name, current_setting(name) AS setting
  FROM pg_setting_names;
CREATE TEMP TABLE pg_sequence (seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8,
  seqmax int8, seqmin int8, seqcache int8, seqcycle bool);
CREATE TEMP TABLE pg_enum (oid oid, enumtypid oid, enumsortorder float4, enumlabel name);
CREATE TEMP TABLE pg_range (rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid,
  rngsubopc oid, rngcanonical text, rngsubdiff text);
CREATE TEMP TABLE pg_tablespace (oid oid, spcname name, spcowner oid);
CREATE TEMP TABLE pg_rewrite (oid oid, rulename name, ev_class oid, ev_type pgchar,
  ev_enabled pgchar, is_instead bool, ev_qual text, ev_action text);
CREATE TEMP TABLE pg_extension (oid oid, extname name, extowner oid, extnamespace oid,
  extrelocatable bool, extversion text, extconfig text, extcondition text);
CREATE TEMP TABLE pg_catalog_storage (oid oid PRIMARY KEY, btree text);
CREATE TEMP VIEW pg_views AS SELECT 'public' AS schemaname, c.relname AS viewname,
  (SELECT rolname FROM pg_authid WHERE oid = c.relowner) AS viewowner, d.def AS definition
  FROM pg_class c LEFT JOIN pg_catalog_defs d ON d.oid = c.oid WHERE c.relkind = 'v';
CREATE TEMP VIEW pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename,
  (SELECT rolname FROM pg_authid WHERE oid = c.relowner) AS tableowner, NULL AS tablespace,
  c.relhasindex AS hasindexes, c.relhasrules AS hasrules, c.relhastriggers AS hastriggers,
  c.relrowsecurity AS rowsecurity
  FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p');
CREATE TEMP VIEW pg_indexes AS SELECT n.nspname AS schemaname, c.relname AS tablename,
  i.relname AS indexname, NULL AS tablespace, d.def AS indexdef
  FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog_defs d ON d.oid = i.oid
  WHERE c.relkind IN ('r', 'm', 'p') AND i.relkind IN ('i', 'I');
CREATE TEMP VIEW pg_matviews AS SELECT 'public' AS schemaname, relname AS matviewname,
  NULL AS matviewowner, NULL AS tablespace, relhasindex AS hasindexes,
  relispopulated AS ispopulated, NULL AS definition FROM pg_class WHERE 0;
CREATE TEMP VIEW pg_lookup_size AS SELECT c.oid AS lookup_oid,
  coalesce((SELECT sum(d.pgsize) FROM pg_catalog_storage s JOIN dbstat d ON d.name = s.btree
    WHERE s.oid = c.oid), 0) AS lookup_size FROM pg_class c;
CREATE TEMP VIEW pg_lookup_opclass AS SELECT oid AS lookup_oid FROM pg_opclass;
CREATE TEMP VIEW pg_lookup_opfamily AS SELECT oid AS lookup_oid FROM pg_opfamily;
CREATE TEMP VIEW pg_lookup_class AS SELECT oid AS lookup_oid, relname AS lookup_name FROM pg_class;
CREATE TEMP VIEW pg_lookup_type AS SELECT oid AS lookup_oid, typname AS lookup_name FROM pg_type;
CREATE TEMP VIEW pg_lookup_namespace AS
  SELECT oid AS lookup_oid, nspname AS lookup_name FROM pg_namespace;
CREATE TEMP VIEW pg_lookup_authid AS SELECT oid AS lookup_oid, rolname AS lookup_name FROM pg_authid;
CREATE TEMP VIEW pg_lookup_proc AS SELECT oid AS lookup_oid, proname AS lookup_name FROM pg_proc;
CREATE TEMP VIEW pg_lookup_defs AS SELECT oid AS lookup_oid, def AS lookup_name,
  coalesce(pretty, def) AS lookup_pretty FROM pg_catalog_defs;
CREATE TEMP VIEW pg_lookup_description AS SELECT objoid AS lookup_oid, objsubid AS lookup_sub,
  description AS lookup_name FROM pg_description;
INSERT INTO pg_namespace VALUES (11, 'pg_catalog', 10, NULL), (2200, 'public', 6171,
  '{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}'),
  (99, 'pg_toast', 10, NULL), (13207, 'information_schema', 10, NULL);
INSERT INTO pg_language VALUES (12, 'internal', 10, 0, 0), (13, 'c', 10, 0, 0),
  (14, 'sql', 10, 0, 1);
INSERT INTO pg_authid VALUES (10, '', 1, 1, 1, 1, 1, 1, 1, -1, NULL, NULL),
  (6171, 'pg_database_owner', 0, 1, 0, 0, 0, 0, 0, -1, NULL, NULL);
INSERT INTO pg_am VALUES (2, 'heap', 'heap_tableam_handler', 't'),
  (403, 'btree', 'bthandler', 'i');
INSERT INTO pg_opclass VALUES (10003, 403, 'bool_ops', 11, 10, 424, 16, 1, 0),
  (10004, 403, 'bpchar_ops', 11, 10, 426, 1042, 1, 0),
  (10006, 403, 'bytea_ops', 11, 10, 428, 17, 1, 0),
  (10012, 403, 'float4_ops', 11, 10, 1970, 700, 1, 0),
  (10022, 403, 'interval_ops', 11, 10, 1982, 1186, 1, 0),
  (10028, 403, 'name_ops', 11, 10, 1994, 19, 1, 0),
  (10038, 403, 'time_ops', 11, 10, 1996, 1083, 1, 0),
  (10065, 403, 'uuid_ops', 11, 10, 2968, 2950, 1, 0),
  (10069, 403, 'enum_ops', 11, 10, 3522, 3500, 1, 0),
  (10088, 403, 'jsonb_ops', 11, 10, 4033, 3802, 1, 0),
  (1978, 403, 'int4_ops', 11, 10, 1976, 23, 1, 0),
  (1979, 403, 'int2_ops', 11, 10, 1976, 21, 1, 0),
  (1981, 403, 'oid_ops', 11, 10, 1989, 26, 1, 0),
  (3122, 403, 'date_ops', 11, 10, 434, 1082, 1, 0),
  (3123, 403, 'float8_ops', 11, 10, 1970, 701, 1, 0),
  (3124, 403, 'int8_ops', 11, 10, 1976, 20, 1, 0),
  (3125, 403, 'numeric_ops', 11, 10, 1988, 1700, 1, 0),
  (3126, 403, 'text_ops', 11, 10, 1994, 25, 1, 0),
  (3127, 403, 'timestamptz_ops', 11, 10, 434, 1184, 1, 0),
  (3128, 403, 'timestamp_ops', 11, 10, 434, 1114, 1, 0);
INSERT INTO pg_opfamily VALUES (424, 403, 'bool_ops', 11, 10),
  (426, 403, 'bpchar_ops', 11, 10), (428, 403, 'bytea_ops', 11, 10),
  (434, 403, 'datetime_ops', 11, 10), (1970, 403, 'float_ops', 11, 10),
  (1976, 403, 'integer_ops', 11, 10), (1982, 403, 'interval_ops', 11, 10),
  (1988, 403, 'numeric_ops', 11, 10), (1989, 403, 'oid_ops', 11, 10),
  (1994, 403, 'text_ops', 11, 10), (1996, 403, 'time_ops', 11, 10),
  (2968, 403, 'uuid_ops', 11, 10), (3522, 403, 'enum_ops', 11, 10),
  (4033, 403, 'jsonb_ops', 11, 10);
INSERT INTO pg_collation VALUES (100, 'default', 11, 10, 'd', 1, -1, NULL, NULL),
  (950, 'C', 11, 10, 'c', 1, -1, 'C', 'C');
INSERT INTO pg_tablespace VALUES (1663, 'pg_default', 10);
";

/// PostgreSQL's built-in types this server knows: OID, name, `typlen`, whether it is
/// collatable, and its name in `format_type`.
const TYPES: &[(i64, &str, i64, bool, &str)] = &[
    (16, "bool", 1, false, "boolean"),
    (17, "bytea", -1, false, "bytea"),
    (18, "char", 1, true, "\"char\""),
    (19, "name", 64, true, "name"),
    (20, "int8", 8, false, "bigint"),
    (21, "int2", 2, false, "smallint"),
    (23, "int4", 4, false, "integer"),
    (25, "text", -1, true, "text"),
    (26, "oid", 4, false, "oid"),
    (114, "json", -1, false, "json"),
    (700, "float4", 4, false, "real"),
    (701, "float8", 8, false, "double precision"),
    (1042, "bpchar", -1, true, "character"),
    (1043, "varchar", -1, true, "character varying"),
    (1082, "date", 4, false, "date"),
    (1083, "time", 8, false, "time without time zone"),
    (1114, "timestamp", 8, false, "timestamp without time zone"),
    (1184, "timestamptz", 8, false, "timestamp with time zone"),
    (1186, "interval", 16, false, "interval"),
    (1700, "numeric", -1, false, "numeric"),
    (2950, "uuid", 16, false, "uuid"),
    (3802, "jsonb", -1, false, "jsonb"),
];

/// PostgreSQL's input functions (`typinput`) of the types this server knows, with
/// their OIDs: the type's OID (0 for `array_in`, `enum_in` and `domain_in`), the
/// function's OID and name. `pg_proc` does not list them (see [`builtin_proc_oid`]).
const INPUT_FUNCTIONS: &[(i64, i64, &str)] = &[
    (16, 1242, "boolin"),
    (17, 1244, "byteain"),
    (18, 1245, "charin"),
    (19, 34, "namein"),
    (20, 460, "int8in"),
    (21, 38, "int2in"),
    (23, 42, "int4in"),
    (25, 46, "textin"),
    (26, 1798, "oidin"),
    (114, 321, "json_in"),
    (700, 200, "float4in"),
    (701, 214, "float8in"),
    (1042, 1044, "bpcharin"),
    (1043, 1046, "varcharin"),
    (1082, 1084, "date_in"),
    (1083, 1143, "time_in"),
    (1114, 1312, "timestamp_in"),
    (1184, 1150, "timestamptz_in"),
    (1186, 1160, "interval_in"),
    (1700, 1701, "numeric_in"),
    (2950, 2952, "uuid_in"),
    (3802, 3806, "jsonb_in"),
    (0, 750, "array_in"),
    (0, ENUM_IN, "enum_in"),
    (0, DOMAIN_IN, "domain_in"),
];
/// OID of `enum_in`, every enum's `typinput`.
const ENUM_IN: i64 = 3506;
/// OID of `domain_in`, every domain's `typinput`.
const DOMAIN_IN: i64 = 2597;

/// PostgreSQL's pseudo-types, which `pg_type` does not list but `'trigger'::regtype`
/// names.
const PSEUDO_TYPES: &[(i64, &str)] = &[
    (2249, "record"),
    (2275, "cstring"),
    (2276, "any"),
    (2277, "anyarray"),
    (2278, "void"),
    (2279, "trigger"),
    (2281, "internal"),
    (2283, "anyelement"),
    (3838, "event_trigger"),
];

/// The OID of a built-in function of PostgreSQL's named `name` (maybe `pg_catalog.`
/// qualified) that this server knows but `pg_proc` does not list: the input functions
/// `typinput` holds (`'pg_catalog.array_in'::regproc` is 750).
pub(crate) fn builtin_proc_oid(name: &str) -> Option<i64> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    INPUT_FUNCTIONS.iter().find(|f| f.2 == name).map(|f| f.1)
}

/// The OID of one of PostgreSQL's pseudo-types (`trigger`, `void`...), which `pg_type`
/// does not list.
pub(crate) fn pseudo_type_oid(name: &str) -> Option<i64> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    PSEUDO_TYPES.iter().find(|t| t.1 == name).map(|t| t.0)
}

/// Creates the catalog's tables and fills its fixed rows.
pub(crate) fn install(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(DDL)?;
    conn.execute_batch(crate::infoschema::DDL)?;
    let mut st = conn.prepare(
        "INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval, typtype,
         typcategory, typisdefined, typdelim, typrelid, typelem, typarray, typnotnull,
         typbasetype, typtypmod, typndims, typcollation, typinput)
         VALUES (?1, ?2, 11, 10, ?3, ?3 > 0 AND ?3 <= 8, 'b', 'U', 1, ',', 0, 0, 0, 0, 0, -1, 0, ?4,
         ?5)",
    )?;
    for (oid, name, len, collatable, _) in TYPES {
        let input = INPUT_FUNCTIONS.iter().find(|f| f.0 == *oid).map(|f| f.1);
        st.execute(params![
            oid,
            name,
            len,
            if *collatable { 100 } else { 0 },
            input
        ])?;
    }
    // The array types a column can have (`integer[]`...), as PostgreSQL lists them:
    // `_int4`, with `typelem` its element and the element's `typarray` it.
    let mut st = conn.prepare(
        "INSERT INTO pg_type (oid, typname, typnamespace, typowner, typlen, typbyval, typtype,
         typcategory, typisdefined, typdelim, typrelid, typelem, typarray, typnotnull,
         typbasetype, typtypmod, typndims, typcollation, typinput)
         SELECT ?1, '_' || typname, 11, 10, -1, 0, 'b', 'A', 1, ',', 0, oid, 0, 0, 0, -1, 0,
         typcollation, ?3 FROM pg_type WHERE oid = ?2",
    )?;
    let array_in = INPUT_FUNCTIONS
        .iter()
        .find(|f| f.2 == "array_in")
        .map(|f| f.1);
    for (array, element, _) in crate::types::ARRAYS {
        st.execute(params![array, element, array_in])?;
        conn.execute(
            "UPDATE pg_type SET typarray = ?1 WHERE oid = ?2",
            params![array, element],
        )?;
    }
    let mut st = conn.prepare("INSERT INTO pg_setting_names VALUES (?1)")?;
    for (name, _) in crate::session::SETTINGS {
        st.execute([name])?;
    }
    Ok(())
}

/// A stable OID for an object: a hash of its kind and name, above PostgreSQL's
/// bootstrap range (16384), as PostgreSQL's user objects are.
pub(crate) fn stable_oid(kind: &str, name: &str) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain([0]).chain(name.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    16384 + i64::from(h % 2_000_000_000)
}

/// The PostgreSQL type (OID, typmod) of a column declared `decl` in SQLite:
/// `varchar(20)` is (1043, 24), `numeric(10,2)` (1700, 655366); names this server does
/// not know take the type its results are described with.
pub(crate) fn pg_type_of(decl: &str) -> (i64, i64) {
    let (oid, typmod) = crate::types::declared(decl);
    (i64::from(oid), i64::from(typmod))
}

/// PostgreSQL's `format_type(oid, typmod)`.
pub(crate) fn format_type(oid: i64, typmod: Option<i64>) -> Option<String> {
    let Some(&(_, _, _, _, name)) = TYPES.iter().find(|t| t.0 == oid) else {
        return crate::usertypes::name_of(oid);
    };
    let typmod = typmod.unwrap_or(-1);
    Some(match oid {
        1043 | 1042 if typmod >= 4 => format!("{name}({})", typmod - 4),
        1700 if typmod >= 4 => {
            let t = typmod - 4;
            format!("{name}({},{})", t >> 16, t & 0xffff)
        }
        1083 | 1114 | 1184 if typmod >= 0 => {
            let (head, tail) = name.split_once(' ').unwrap_or((name, ""));
            format!("{head}({typmod}) {tail}")
        }
        _ => name.to_string(),
    })
}

/// PostgreSQL's `quote_ident`: the name as is when it needs no quotes.
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A column from `table_info`: cid, name, declared type, not null, default, pk.
type Col = (i64, String, String, bool, Option<String>, i64);

struct Index {
    name: String,
    unique: bool,
    origin: String,
    columns: Vec<(i64, String)>,
    sql: Option<String>,
    /// SQLite's index (none for the rowid, an `INTEGER PRIMARY KEY`).
    btree: Option<String>,
}

/// After a change the catalog shows but SQLite's schema does not (a comment, a type, a
/// sequence): every connection's catalog is filled again on its next use, since each
/// compares the schema version it was filled at, which a table created and dropped
/// moves on.
pub(crate) fn changed_everywhere(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE main._pgproto_schema_bump (x); DROP TABLE main._pgproto_schema_bump;",
    )
}

/// Fills `pg_database` with the server's databases: the main one (`postgres`), the
/// templates, and `created` (names and OIDs). Text sorts by code point, as in a cluster
/// made with locale `C.UTF-8`.
pub(crate) fn fill_databases(conn: &Connection, created: &[(String, i64)]) -> rusqlite::Result<()> {
    use crate::databases::{MAIN, MAIN_OID, TEMPLATES};
    conn.execute("DELETE FROM pg_database", [])?;
    let mut insert = conn.prepare(
        "INSERT INTO pg_database VALUES (?1, ?2, 10, 6, 'c', ?3, ?4, -1, 'C.UTF-8', 'C.UTF-8', \
         NULL, NULL, NULL, NULL)",
    )?;
    insert.execute(rusqlite::params![MAIN_OID, MAIN, false, true])?;
    for (name, oid) in TEMPLATES {
        insert.execute(rusqlite::params![oid, name, true, name != "template0"])?;
    }
    for (name, oid) in created {
        insert.execute(rusqlite::params![oid, name, false, true])?;
    }
    Ok(())
}

/// Fills the catalog again if SQLite's schema changed since it was last filled, and
/// names the connected user in `pg_authid` and in the templates' privileges, and the
/// main database in `pg_database` as the session knows it.
pub(crate) fn refresh(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE pg_authid SET rolname = current_user() WHERE oid = 10 AND rolname IS NOT current_user()",
        [],
    )?;
    // The main database goes by the name the session knows it by.
    conn.execute(
        "UPDATE pg_database SET datname = pgproto_main_database() \
         WHERE oid = 5 AND datname IS NOT pgproto_main_database()",
        [],
    )?;
    // The templates' privileges name their owner, the connected user.
    conn.execute(
        "UPDATE pg_database SET datacl = '{=c/' || current_user() || ',' || current_user() || \
         '=CTc/' || current_user() || '}' WHERE datistemplate AND datacl IS NOT \
         '{=c/' || current_user() || ',' || current_user() || '=CTc/' || current_user() || '}'",
        [],
    )?;
    let version: i64 = conn.query_row("PRAGMA main.schema_version", [], |r| r.get(0))?;
    let stored: Option<i64> = conn
        .query_row("SELECT version FROM pg_catalog_state", [], |r| r.get(0))
        .optional()?;
    if stored == Some(version) {
        return Ok(());
    }
    conn.execute_batch(
        "DELETE FROM pg_catalog_state; DELETE FROM pg_catalog_defs; DELETE FROM pg_class;
         DELETE FROM pg_attribute; DELETE FROM pg_attrdef; DELETE FROM pg_index;
         DELETE FROM pg_constraint; DELETE FROM pg_trigger; DELETE FROM pg_description;
         DELETE FROM pg_sequence; DELETE FROM pg_depend; DELETE FROM pg_enum; DELETE FROM pg_type WHERE oid >= 16384;
         DELETE FROM pg_rewrite; DELETE FROM pg_catalog_storage;
         INSERT INTO pg_description VALUES (2200, 2615, 0, 'standard public schema');",
    )?;
    conn.execute("INSERT INTO pg_catalog_state VALUES (?1)", [version])?;
    let objects: Vec<(String, String, Option<String>)> = crate::ddl::query_rows(
        conn,
        "SELECT type, name, sql FROM main.sqlite_schema
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             AND name NOT LIKE '\\_pgproto\\_%' ESCAPE '\\'",
        [],
    )?;
    let sequences = crate::sequences::read_all(conn)?;
    for s in &sequences {
        insert_class(conn, s.oid(), &s.name, "S", 3, false)?;
        let typid = match s.type_name.as_str() {
            "smallint" => 21,
            "integer" => 23,
            _ => 20,
        };
        conn.execute(
            "INSERT INTO pg_sequence VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.oid(),
                typid,
                s.start,
                s.increment,
                s.max,
                s.min,
                s.cache,
                s.cycle
            ],
        )?;
    }
    crate::usertypes::fill_catalog(conn)?;
    conn.execute(
        "UPDATE pg_type SET typinput = CASE typtype WHEN 'e' THEN ?1 WHEN 'd' THEN ?2 END
         WHERE oid >= 16384",
        [ENUM_IN, DOMAIN_IN],
    )?;
    for (kind, name, sql) in &objects {
        fill_relation(conn, kind, name, sql.as_deref(), &sequences)?;
    }
    for (kind, name, sql) in &objects {
        if let (true, Some(sql)) = (kind == "view", sql) {
            fill_view_definition(conn, name, sql)?;
        }
    }
    // An owned sequence depends on its column: `a`uto for serial and OWNED BY,
    // `i`nternal for an identity column's.
    for s in &sequences {
        let Some((table, column)) = &s.owner else {
            continue;
        };
        conn.execute(
            "INSERT INTO pg_depend SELECT 1259, ?1, 0, 1259, attrelid, attnum, ?2
             FROM pg_attribute WHERE attrelid = ?3 AND attname = ?4",
            params![
                s.oid(),
                if s.identity.is_some() { "i" } else { "a" },
                stable_oid("table", table),
                column
            ],
        )?;
    }
    fill_triggers(conn)?;
    fill_comments(conn)?;
    // PostgreSQL enforces foreign keys with triggers on both tables.
    conn.execute(
        "UPDATE pg_class SET relhastriggers = 1 WHERE oid IN
         (SELECT conrelid FROM pg_constraint WHERE contype = 'f'
          UNION SELECT confrelid FROM pg_constraint WHERE contype = 'f')",
        [],
    )?;
    Ok(())
}

/// A view's definition as PostgreSQL deparses it (see [`crate::viewdef`]), over the
/// columns `pg_attribute` lists for the relations it reads; the query as written stays
/// when it is not deparsed.
fn fill_view_definition(conn: &Connection, name: &str, sql: &str) -> rusqlite::Result<()> {
    let relation = |table: &str| -> Option<(String, crate::viewdef::Columns)> {
        let mut st = conn
            .prepare_cached(
                "SELECT c.relname, a.attname, a.atttypid FROM pg_class c
                 JOIN pg_attribute a ON a.attrelid = c.oid
                 WHERE c.relname = ?1 COLLATE NOCASE AND c.relkind IN ('r', 'v')
                 ORDER BY a.attnum",
            )
            .ok()?;
        let rows = st
            .query_map([table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .ok()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ok()?;
        let stored = rows.first()?.0.clone();
        let columns = rows
            .into_iter()
            .map(|(_, column, typid)| (column, crate::constraints::type_name(typid)))
            .collect();
        Some((stored, columns))
    };
    if let Some((def, pretty)) = crate::viewdef::deparse(sql, &relation) {
        conn.execute(
            "UPDATE pg_catalog_defs SET def = ?2, pretty = ?3 WHERE oid = ?1",
            params![stable_oid("view", name), def, pretty],
        )?;
    }
    Ok(())
}

/// An index's `indcollation` (`collation`) or `indclass` (else): per column, the
/// collation of a collatable column's type (`default`, else 0), or the default btree
/// operator class of its type (`pg_opclass`; 0 for an expression or another type).
fn index_vector(
    conn: &Connection,
    table: i64,
    columns: &[(i64, String)],
    collation: bool,
) -> rusqlite::Result<String> {
    let mut out = Vec::new();
    for (cid, _) in columns {
        let typid: Option<i64> = conn
            .query_row(
                "SELECT CASE WHEN t.typtype = 'e' THEN 3500 ELSE a.atttypid END
                 FROM pg_attribute a LEFT JOIN pg_type t ON t.oid = a.atttypid
                 WHERE a.attrelid = ?1 AND a.attnum = ?2",
                params![table, cid + 1],
                |r| r.get(0),
            )
            .optional()?;
        let value = if collation {
            match typid {
                Some(t) if TYPES.iter().any(|ty| ty.0 == t && ty.3) => 100,
                _ => 0,
            }
        } else {
            // varchar's is text's.
            let typid = typid.map(|t| if t == 1043 { 25 } else { t });
            conn.query_row(
                "SELECT oid FROM pg_opclass WHERE opcmethod = 403 AND opcdefault AND opcintype = ?1",
                [typid],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0)
        };
        out.push(value.to_string());
    }
    Ok(out.join(" "))
}

fn insert_class(
    conn: &Connection,
    oid: i64,
    name: &str,
    relkind: &str,
    natts: i64,
    hasindex: bool,
) -> rusqlite::Result<()> {
    let am = match relkind {
        "r" => HEAP,
        "i" => BTREE,
        _ => 0,
    };
    let replident = if relkind == "r" { "d" } else { "n" };
    conn.execute(
        "INSERT INTO pg_class VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, ?1, 0, 0, -1, 0, 0, ?6, 0, 'p',
         ?7, ?8, 0, ?9, 0, 0, 0, 0, 1, ?10, 0, 0, NULL, NULL, NULL, NULL, NULL)",
        params![
            oid,
            name,
            PUBLIC,
            SUPERUSER,
            am,
            hasindex,
            relkind,
            natts,
            relkind == "v",
            replident
        ],
    )?;
    Ok(())
}

fn fill_relation(
    conn: &Connection,
    kind: &str,
    name: &str,
    sql: Option<&str>,
    sequences: &[crate::sequences::Seq],
) -> rusqlite::Result<()> {
    let relkind = if kind == "view" { "v" } else { "r" };
    let oid = stable_oid(kind, name);
    let cols: Vec<Col> = crate::ddl::query_rows(
        conn,
        "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
        [name],
    )?;
    let col_name = |cid: i64| {
        cols.iter()
            .find(|c| c.0 == cid)
            .map_or_else(String::new, |c| c.1.clone())
    };
    let mut indexes: Vec<Index> = Vec::new();
    let named_keys = sql.map(crate::constraints::named_keys).unwrap_or_default();
    if kind == "table" {
        let list: Vec<(String, bool, String)> = crate::ddl::query_rows(
            conn,
            "SELECT name, \"unique\", origin FROM pragma_index_list(?1)",
            [name],
        )?;
        for (iname, unique, origin) in list {
            let columns: Vec<(i64, String)> = {
                let mut st =
                    conn.prepare("SELECT cid, name FROM pragma_index_info(?1) ORDER BY seqno")?;
                let rows = st.query_map([&iname], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    ))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let isql: Option<String> = conn
                .query_row(
                    "SELECT sql FROM main.sqlite_schema WHERE type = 'index' AND name = ?1",
                    [&iname],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let cols_key = columns
                .iter()
                .map(|c| c.1.as_str())
                .collect::<Vec<_>>()
                .join("_");
            let given = named_keys.iter().find(|(_, keys)| {
                keys.len() == columns.len()
                    && keys
                        .iter()
                        .zip(&columns)
                        .all(|(k, c)| k.eq_ignore_ascii_case(&c.1))
            });
            // A unique index that `ADD CONSTRAINT ... UNIQUE` made: a constraint.
            let origin = if isql
                .as_deref()
                .is_some_and(|s| s.contains(crate::altertable::UNIQUE_CONSTRAINT))
            {
                "constraint".to_string()
            } else {
                origin
            };
            let pg_name = match (origin.as_str(), given) {
                ("pk" | "u", Some((n, _))) => n.clone(),
                ("pk", None) => format!("{name}_pkey"),
                ("u", None) => format!("{name}_{cols_key}_key"),
                _ => iname.clone(),
            };
            indexes.push(Index {
                name: pg_name,
                unique,
                origin,
                columns,
                sql: isql,
                btree: Some(iname),
            });
        }
        // An `INTEGER PRIMARY KEY` is the rowid: PostgreSQL would have a primary key index.
        let pk: Vec<&Col> = cols.iter().filter(|c| c.5 > 0).collect();
        if !pk.is_empty() && !indexes.iter().any(|i| i.origin == "pk") {
            let given = named_keys.iter().find(|(_, keys)| {
                keys.len() == pk.len()
                    && keys
                        .iter()
                        .zip(&pk)
                        .all(|(k, c)| k.eq_ignore_ascii_case(&c.1))
            });
            indexes.push(Index {
                name: given.map_or_else(|| format!("{name}_pkey"), |g| g.0.clone()),
                unique: true,
                origin: "pk".to_string(),
                columns: pk.iter().map(|c| (c.0, c.1.clone())).collect(),
                sql: None,
                btree: None,
            });
        }
    }
    insert_class(
        conn,
        oid,
        name,
        relkind,
        i64::try_from(cols.len()).unwrap_or(0),
        !indexes.is_empty(),
    )?;
    if kind == "table" {
        conn.execute(
            "INSERT INTO pg_catalog_storage VALUES (?1, ?2)",
            params![oid, name],
        )?;
    } else {
        // A view is a rule: `_RETURN`, its query.
        conn.execute(
            "INSERT INTO pg_rewrite VALUES (?1, '_RETURN', ?2, '1', 'O', 1, NULL, NULL)",
            params![stable_oid("rule", name), oid],
        )?;
    }
    if kind == "view" {
        if let Some(sql) = sql {
            let body = sql
                .to_ascii_uppercase()
                .find(" AS ")
                .and_then(|p| sql.get(p + 4..))
                .unwrap_or(sql);
            conn.execute(
                "INSERT INTO pg_catalog_defs VALUES (?1, ?2, NULL)",
                params![oid, format!(" {};", body.trim())],
            )?;
        }
    }
    for (cid, cname, decl, notnull, dflt, pk) in &cols {
        let kept = if decl.eq_ignore_ascii_case("INTEGER") {
            declared_type(conn, name, cname)
        } else {
            None
        };
        // A default taking a sequence's next value, as PostgreSQL writes it; an identity
        // column's is not a default but `attidentity`.
        let sequence = dflt
            .as_deref()
            .and_then(crate::sequences::default_sequence)
            .and_then(|n| sequences.iter().find(|s| s.name == n));
        let identity = sequence
            .and_then(|s| s.identity.clone())
            .unwrap_or_default();
        let sequence_default = sequence.filter(|_| identity.is_empty()).map(|s| {
            format!(
                "nextval('{}'::regclass)",
                quote_ident(&s.name).replace('\'', "''")
            )
        });
        // A serial key from before sequences were kept: its default as PostgreSQL's.
        let legacy_default = kept
            .as_ref()
            .filter(|_| dflt.is_none())
            .map(|_| format!("nextval('{name}_{cname}_seq'::regclass)"));
        if legacy_default.is_some() {
            // PostgreSQL lists the serial's sequence (SQLite's rowid stands for it).
            let seq = format!("{name}_{cname}_seq");
            insert_class(conn, stable_oid("sequence", &seq), &seq, "S", 3, false)?;
        }
        let dflt = &if sequence.is_some() {
            sequence_default
        } else {
            legacy_default.or_else(|| dflt.clone())
        };
        // A boolean default written as a string is PostgreSQL's constant.
        let bool_default = dflt.as_deref().and_then(|d| {
            let t = d.trim().trim_matches('\'').to_ascii_lowercase();
            let is_bool = crate::types::oid_for_decl(decl) == crate::types::BOOL;
            match t.as_str() {
                "true" | "t" | "yes" | "on" | "1" if is_bool => Some("true".to_string()),
                "false" | "f" | "no" | "off" | "0" if is_bool => Some("false".to_string()),
                _ => None,
            }
        });
        let dflt = &bool_default.or_else(|| dflt.clone());
        let (typid, typmod) = match crate::usertypes::lookup(conn, kept.as_deref().unwrap_or(decl))
        {
            Some(u) => (i64::from(u.oid), -1),
            None => pg_type_of(kept.as_deref().unwrap_or(decl)),
        };
        let (len, collation) = match TYPES.iter().find(|t| t.0 == typid) {
            Some(t) => (t.2, if t.3 { 100 } else { 0 }),
            // A user type's, from `pg_type` (filled first).
            None => conn
                .query_row(
                    "SELECT typlen, typcollation FROM pg_type WHERE oid = ?1",
                    [typid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .unwrap_or((-1, 0)),
        };
        conn.execute(
            "INSERT INTO pg_attribute VALUES (?1, ?2, ?3, -1, ?4, ?5, 0, -1, ?6, ?7, 'i', ?11, '',
             ?8, ?9, 0, ?12, '', 0, 1, 0, ?10, NULL, NULL, NULL, NULL)",
            params![
                oid,
                cname,
                typid,
                len,
                cid + 1,
                typmod,
                len > 0 && len <= 8,
                *notnull || *pk > 0,
                dflt.is_some(),
                collation,
                // PostgreSQL's storage: numeric `main`, other variable-length types
                // `extended`, fixed-length ones `plain`.
                match (typid, len) {
                    (1700, _) => "m",
                    (_, -1) => "x",
                    _ => "p",
                },
                identity
            ],
        )?;
        if let Some(d) = dflt {
            conn.execute(
                "INSERT INTO pg_attrdef VALUES (?1, ?2, ?3, ?4)",
                params![
                    stable_oid("attrdef", &format!("{name}.{cname}")),
                    oid,
                    cid + 1,
                    d
                ],
            )?;
        }
    }
    for ix in &indexes {
        let ioid = stable_oid("index", &ix.name);
        insert_class(
            conn,
            ioid,
            &ix.name,
            "i",
            i64::try_from(ix.columns.len()).unwrap_or(0),
            false,
        )?;
        if let Some(btree) = &ix.btree {
            conn.execute(
                "INSERT INTO pg_catalog_storage VALUES (?1, ?2)",
                params![ioid, btree],
            )?;
        }
        let keys: Vec<String> = ix.columns.iter().map(|c| (c.0 + 1).to_string()).collect();
        let exprs = ix
            .sql
            .as_deref()
            .filter(|_| ix.columns.iter().any(|c| c.0 < 0))
            .and_then(|s| {
                let open = s.find('(')?;
                let close = s.rfind(')')?;
                s.get(open + 1..close).map(str::to_string)
            });
        // `(label varchar_pattern_ops)`: the operator class kept as a comment.
        let classes = ix
            .sql
            .as_deref()
            .map(crate::indexes::operator_classes)
            .unwrap_or_default();
        let col_list = exprs.unwrap_or_else(|| {
            ix.columns
                .iter()
                .enumerate()
                .map(|(i, c)| match classes.get(i) {
                    Some(Some(class)) => format!("{} {class}", quote_ident(&col_name(c.0))),
                    _ => quote_ident(&col_name(c.0)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let predicate = ix.sql.as_deref().and_then(|s| {
            let upper = s.to_ascii_uppercase();
            let p = upper.rfind(" WHERE ")?;
            s.get(p..).map(str::to_string)
        });
        let def = format!(
            "CREATE {}INDEX {} ON public.{} USING btree ({col_list}){}",
            if ix.unique { "UNIQUE " } else { "" },
            quote_ident(&ix.name),
            quote_ident(name),
            predicate.unwrap_or_default()
        );
        conn.execute(
            "INSERT INTO pg_catalog_defs VALUES (?1, ?2, NULL)",
            params![ioid, def],
        )?;
        let primary = ix.origin == "pk";
        conn.execute(
            "INSERT INTO pg_index VALUES (?1, ?2, ?3, ?3, ?4, 0, ?5, 0, 1, 0, 1, 0, 1, 1, 0, ?6,
             ?7, ?8, ?9, NULL, NULL)",
            params![
                ioid,
                oid,
                keys.len(),
                ix.unique,
                primary,
                keys.join(" "),
                index_vector(conn, oid, &ix.columns, true)?,
                index_vector(conn, oid, &ix.columns, false)?,
                vec!["0"; ix.columns.len()].join(" ")
            ],
        )?;
        if primary || ix.origin == "u" || ix.origin == "constraint" {
            let contype = if primary { "p" } else { "u" };
            let cols = ix
                .columns
                .iter()
                .map(|c| quote_ident(&c.1))
                .collect::<Vec<_>>()
                .join(", ");
            let def = if primary {
                format!("PRIMARY KEY ({cols})")
            } else {
                format!("UNIQUE ({cols})")
            };
            insert_constraint(
                conn,
                &ix.name,
                contype,
                oid,
                ioid,
                0,
                &format!("{{{}}}", keys.join(",")),
                &def,
            )?;
        }
    }
    if kind == "table" {
        fill_foreign_keys(conn, name, oid, sql.unwrap_or(""))?;
        fill_checks(conn, name, oid, sql.unwrap_or(""), &cols)?;
    }
    Ok(())
}

/// The table's CHECK constraints (see [`crate::constraints`]).
fn fill_checks(
    conn: &Connection,
    table: &str,
    oid: i64,
    sql: &str,
    cols: &[Col],
) -> rusqlite::Result<()> {
    let columns: Vec<(String, String)> = cols.iter().map(|c| (c.1.clone(), c.2.clone())).collect();
    let checks = crate::constraints::checks(table, sql, &columns);
    for c in &checks {
        let keys: Vec<String> = c.columns.iter().map(i64::to_string).collect();
        insert_constraint(
            conn,
            &c.name,
            "c",
            oid,
            0,
            0,
            &format!("{{{}}}", keys.join(",")),
            &c.def,
        )?;
        conn.execute(
            "UPDATE pg_catalog_defs SET pretty = ?2 WHERE oid = ?1",
            params![
                stable_oid("constraint", &format!("{oid}.{}", c.name)),
                c.pretty
            ],
        )?;
    }
    if !checks.is_empty() {
        conn.execute(
            "UPDATE pg_class SET relchecks = ?2 WHERE oid = ?1",
            params![oid, i64::try_from(checks.len()).unwrap_or(0)],
        )?;
    }
    Ok(())
}

/// SQLite's triggers, in `pg_trigger`: `pg_get_triggerdef` gives their SQLite text.
fn fill_triggers(conn: &Connection) -> rusqlite::Result<()> {
    let triggers: Vec<(String, String, Option<String>)> = crate::ddl::query_rows(
        conn,
        "SELECT name, tbl_name, sql FROM main.sqlite_schema WHERE type = 'trigger'
                      AND name NOT LIKE '\\_pgproto\\_%' ESCAPE '\\'",
        [],
    )?;
    for (name, table, sql) in triggers {
        let relid: Option<i64> = conn
            .query_row(
                "SELECT oid FROM pg_class WHERE relname = ?1 AND relkind IN ('r', 'v')",
                [&table],
                |r| r.get(0),
            )
            .optional()?;
        let Some(relid) = relid else { continue };
        let toid = stable_oid("trigger", &format!("{table}.{name}"));
        conn.execute(
            "INSERT INTO pg_trigger VALUES (?1, ?2, 0, ?3, 0, 0, 'O', 0)",
            params![toid, relid, name],
        )?;
        let def = sql
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        conn.execute(
            "INSERT INTO pg_catalog_defs VALUES (?1, ?2, NULL)",
            params![toid, def],
        )?;
        conn.execute(
            "UPDATE pg_class SET relhastriggers = 1 WHERE oid = ?1",
            [relid],
        )?;
    }
    Ok(())
}

/// The table that keeps `COMMENT ON TABLE/COLUMN`, in the database itself (`col` is
/// empty for the table's own comment).
pub(crate) const COMMENTS_DDL: &str = "CREATE TABLE IF NOT EXISTS main._pgproto_comments
  (tbl text NOT NULL, col text NOT NULL, description text NOT NULL, PRIMARY KEY (tbl, col))";

/// The table that keeps the PostgreSQL type of the serial columns, which SQLite
/// declares `INTEGER` (the rowid): `bigserial` is `int8`.
pub(crate) const COLUMNS_DDL: &str = "CREATE TABLE IF NOT EXISTS main._pgproto_columns
  (tbl text NOT NULL, col text NOT NULL, pg_type text NOT NULL, PRIMARY KEY (tbl, col))";

/// The PostgreSQL type of `table.column` kept in `_pgproto_columns` (`int8` for a
/// `bigserial` key that SQLite declares `INTEGER`), if any.
pub(crate) fn declared_type(conn: &Connection, table: &str, column: &str) -> Option<String> {
    let mut st = conn
        .prepare_cached(
            "SELECT pg_type FROM main._pgproto_columns
             WHERE tbl = ?1 COLLATE NOCASE AND col = ?2 COLLATE NOCASE",
        )
        .ok()?;
    st.query_row([table, column], |r| r.get(0)).ok()
}

/// The types of a statement's result columns by their declarations, as PostgreSQL
/// describes them (OID, typmod, table OID, column number): a table column's declared
/// type, the PostgreSQL type kept for it where SQLite must declare another (`bigserial`
/// keys are SQLite's `INTEGER` rowid), an enum's OID, a domain's base type; `None` for
/// expressions.
/// `columns_of(table)` answers a table's `(column, declared type)` pairs in order.
pub(crate) fn declared_columns(
    conn: &Connection,
    st: &rusqlite::Statement<'_>,
    columns_of: &mut dyn FnMut(&str) -> Vec<(String, String)>,
) -> Vec<Option<crate::types::ColumnType>> {
    let meta = st.columns_with_metadata();
    // Column numbers, per table named.
    let mut numbers: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    st.columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let decl = c.decl_type()?;
            let origin = meta
                .get(i)
                .and_then(|m| m.table_name().zip(m.origin_name()));
            let kept = origin
                .filter(|_| decl.eq_ignore_ascii_case("INTEGER"))
                .and_then(|(t, col)| declared_type(conn, t, col));
            let decl = kept.as_deref().unwrap_or(decl);
            let (oid, typmod) = match crate::usertypes::lookup(conn, decl) {
                Some(u) => (u.described_oid(), u.typmod),
                None => crate::types::declared(decl),
            };
            let (table_oid, column_id) = match origin {
                Some((t, col)) => {
                    let names = numbers.entry(t.to_string()).or_insert_with(|| {
                        columns_of(t).into_iter().map(|(name, _)| name).collect()
                    });
                    let n = names
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case(col))
                        .and_then(|p| i16::try_from(p + 1).ok())
                        .unwrap_or(0);
                    (u32::try_from(stable_oid("table", t)).unwrap_or(0), n)
                }
                None => (0, 0),
            };
            Some(crate::types::ColumnType {
                oid,
                typmod,
                table_oid,
                column_id,
            })
        })
        .collect()
}

/// Whether the database has the server's table `name`.
pub(crate) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )
}

/// Makes the server's own tables follow a schema change that succeeded.
pub(crate) fn follow_change(
    conn: &Connection,
    change: &crate::pgsql::SchemaChange,
) -> rusqlite::Result<()> {
    use crate::pgsql::SchemaChange;
    let mut sides = Vec::new();
    for t in ["_pgproto_comments", "_pgproto_columns"] {
        if has_table(conn, t)? {
            sides.push(t);
        }
    }
    if let SchemaChange::Create(table, serials, _) = change {
        if !serials.is_empty() {
            conn.execute_batch(COLUMNS_DDL)?;
            conn.execute(
                "DELETE FROM main._pgproto_columns WHERE tbl = ?1 COLLATE NOCASE",
                [table],
            )?;
            for (col, ty) in serials {
                conn.execute(
                    "INSERT INTO main._pgproto_columns VALUES (?1, ?2, ?3)",
                    params![table, col, ty],
                )?;
            }
        }
        // A new table has no comments (a dropped one's are gone).
        return Ok(());
    }
    for side in sides {
        match change {
            SchemaChange::Create(..) | SchemaChange::AddColumn(_) => {}
            SchemaChange::Drop(names) => {
                for n in names {
                    conn.execute(
                        &format!("DELETE FROM main.{side} WHERE tbl = ?1 COLLATE NOCASE"),
                        [n],
                    )?;
                }
            }
            SchemaChange::RenameTable(a, b) => {
                conn.execute(
                    &format!("UPDATE main.{side} SET tbl = ?2 WHERE tbl = ?1 COLLATE NOCASE"),
                    [a, b],
                )?;
            }
            SchemaChange::RenameColumn(t, a, b) => {
                conn.execute(
                    &format!(
                        "UPDATE main.{side} SET col = ?3 WHERE tbl = ?1 COLLATE NOCASE
                         AND col = ?2 COLLATE NOCASE"
                    ),
                    [t, a, b],
                )?;
            }
            SchemaChange::DropColumn(t, cols) => {
                for c in cols {
                    conn.execute(
                        &format!(
                            "DELETE FROM main.{side} WHERE tbl = ?1 COLLATE NOCASE
                             AND col = ?2 COLLATE NOCASE"
                        ),
                        [t, c],
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Comments, from `_pgproto_comments` into `pg_description`.
fn fill_comments(conn: &Connection) -> rusqlite::Result<()> {
    if !has_table(conn, "_pgproto_comments")? {
        return Ok(());
    }
    conn.execute(
        "INSERT INTO pg_description SELECT c.oid, 1259, coalesce(a.attnum, 0), d.description
         FROM main._pgproto_comments d JOIN pg_class c ON c.relname = d.tbl COLLATE NOCASE AND c.relkind IN ('r', 'v')
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = d.col COLLATE NOCASE AND d.col <> ''
         WHERE d.col = '' OR a.attnum IS NOT NULL",
        [],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_constraint(
    conn: &Connection,
    conname: &str,
    contype: &str,
    conrelid: i64,
    conindid: i64,
    confrelid: i64,
    conkey: &str,
    def: &str,
) -> rusqlite::Result<()> {
    let coid = stable_oid("constraint", &format!("{conrelid}.{conname}"));
    conn.execute(
        "INSERT INTO pg_constraint VALUES (?1, ?2, 2200, ?3, 0, 0, 1, ?4, 0, ?5, 0, ?6, 'a', 'a',
         's', 1, 0, 1, ?7, NULL, NULL)",
        params![coid, conname, contype, conrelid, conindid, confrelid, conkey],
    )?;
    conn.execute(
        "INSERT INTO pg_catalog_defs VALUES (?1, ?2, NULL)",
        params![coid, def],
    )?;
    Ok(())
}

fn fill_foreign_keys(conn: &Connection, table: &str, oid: i64, sql: &str) -> rusqlite::Result<()> {
    // The names given in the table's text (`CONSTRAINT fk FOREIGN KEY ...`).
    let given: Vec<crate::constraints::Clause> = crate::constraints::clauses(sql)
        .into_iter()
        .filter(|c| c.kind == crate::constraints::ClauseKind::ForeignKey && c.given.is_some())
        .collect();
    type Fk = (i64, String, String, Option<String>, String, String);
    let fks: Vec<Fk> = crate::ddl::query_rows(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        [table],
    )?;
    let mut ids: Vec<i64> = fks.iter().map(|f| f.0).collect();
    ids.dedup();
    for id in ids {
        let parts: Vec<&Fk> = fks.iter().filter(|f| f.0 == id).collect();
        let Some(first) = parts.first() else { continue };
        let target = first.1.clone();
        let from: Vec<String> = parts.iter().map(|f| f.2.clone()).collect();
        let mut to: Vec<String> = parts.iter().filter_map(|f| f.3.clone()).collect();
        if to.len() != from.len() {
            // `REFERENCES t` without columns: the target's primary key.
            to = crate::ddl::query_column(
                conn,
                "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                [&target],
            )?;
        }
        let action = |a: &str| match a {
            "CASCADE" | "RESTRICT" | "SET NULL" | "SET DEFAULT" => Some(a.to_string()),
            _ => None,
        };
        let mut def = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            from.iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            quote_ident(&target),
            to.iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(a) = action(&first.4) {
            def.push_str(&format!(" ON UPDATE {a}"));
        }
        if let Some(a) = action(&first.5) {
            def.push_str(&format!(" ON DELETE {a}"));
        }
        let conname = given
            .iter()
            .find(|c| {
                c.references
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&target))
                    && c.columns.len() == from.len()
                    && c.columns
                        .iter()
                        .zip(&from)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
            })
            .and_then(|c| c.given.clone())
            .unwrap_or_else(|| format!("{table}_{}_fkey", from.join("_")));
        let confrelid = stable_oid("table", &target);
        let nums: Vec<String> = {
            let mut st =
                conn.prepare("SELECT cid + 1 FROM pragma_table_info(?1) WHERE name = ?2")?;
            from.iter()
                .filter_map(|c| {
                    st.query_row(params![table, c], |r| r.get::<_, i64>(0))
                        .ok()
                        .map(|n| n.to_string())
                })
                .collect()
        };
        insert_constraint(
            conn,
            &conname,
            "f",
            oid,
            referenced_index(conn, &target, &to)?.map_or(0, |i| stable_oid("index", &i)),
            confrelid,
            &format!("{{{}}}", nums.join(",")),
            &def,
        )?;
        // The referenced columns and the actions, as PostgreSQL's codes.
        let fnums: Vec<String> = {
            let mut st =
                conn.prepare("SELECT cid + 1 FROM pragma_table_info(?1) WHERE name = ?2")?;
            to.iter()
                .filter_map(|c| {
                    st.query_row(params![target, c], |r| r.get::<_, i64>(0))
                        .ok()
                        .map(|n| n.to_string())
                })
                .collect()
        };
        let code = |a: &str| match a {
            "CASCADE" => "c",
            "RESTRICT" => "r",
            "SET NULL" => "n",
            "SET DEFAULT" => "d",
            _ => "a",
        };
        conn.execute(
            "UPDATE pg_constraint SET confkey = ?2, confupdtype = ?3, confdeltype = ?4 WHERE oid = ?1",
            params![
                stable_oid("constraint", &format!("{oid}.{conname}")),
                format!("{{{}}}", fnums.join(",")),
                code(&first.4),
                code(&first.5)
            ],
        )?;
    }
    Ok(())
}

/// The elements of an array's text form, `{a,NULL,"c d"}` (no nested arrays; `NULL`
/// unquoted is a NULL element), or of an `int2vector`/`oidvector`'s, `1 2`.
pub(crate) fn array_elements(text: &str) -> Vec<Option<String>> {
    let t = text.trim();
    let Some(inner) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return t.split_whitespace().map(|s| Some(s.to_string())).collect();
    };
    if inner.trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (mut item, mut quoted, mut was_quoted) = (String::new(), false, false);
    let mut chars = inner.chars();
    let mut finish = |item: &mut String, was_quoted: &mut bool| {
        let raw = std::mem::take(item);
        out.push(if *was_quoted {
            Some(raw)
        } else {
            let trimmed = raw.trim();
            (!trimmed.eq_ignore_ascii_case("null")).then(|| trimmed.to_string())
        });
        *was_quoted = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '\\' => item.extend(chars.next()),
            ',' if !quoted => finish(&mut item, &mut was_quoted),
            c if c.is_whitespace() && !quoted && (item.is_empty() || was_quoted) => {}
            c => item.push(c),
        }
    }
    finish(&mut item, &mut was_quoted);
    out
}

/// The lower bound of an array given in text: 1, or 0 for an `int2vector`/`oidvector`
/// (`1 2`), whose subscripts start at 0.
fn array_lower(text: &str) -> i64 {
    i64::from(text.trim_start().starts_with('{'))
}

/// The non-NULL elements of an array's text form (see [`array_elements`]).
fn array_items(text: &str) -> Vec<String> {
    array_elements(text).into_iter().flatten().collect()
}

/// The name (as `pg_class` gives it) of the unique index of `table` on exactly
/// `columns`, which a foreign key referencing them depends on (its `conindid`).
fn referenced_index(
    conn: &Connection,
    table: &str,
    columns: &[String],
) -> rusqlite::Result<Option<String>> {
    let same = |cols: &[String]| {
        cols.len() == columns.len()
            && cols
                .iter()
                .zip(columns)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    let pk: Vec<String> = crate::ddl::query_column(
        conn,
        "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
        [table],
    )?;
    if same(&pk) {
        return Ok(Some(format!("{table}_pkey")));
    }
    let list: Vec<(String, String)> = crate::ddl::query_rows(
        conn,
        "SELECT name, origin FROM pragma_index_list(?1) WHERE \"unique\"",
        [table],
    )?;
    for (name, origin) in list {
        let cols: Vec<String> = crate::ddl::query_column(
            conn,
            "SELECT coalesce(name, '') FROM pragma_index_info(?1) ORDER BY seqno",
            [&name],
        )?;
        if same(&cols) {
            return Ok(Some(match origin.as_str() {
                "pk" => format!("{table}_pkey"),
                "u" => format!("{table}_{}_key", cols.join("_")),
                _ => name,
            }));
        }
    }
    Ok(None)
}

/// An array element as PostgreSQL writes it inside `{...}`: quoted when empty, `NULL`,
/// or holding a space, quote, backslash, comma or brace.
fn array_quote(item: &str) -> String {
    let plain = !item.is_empty()
        && !item.eq_ignore_ascii_case("NULL")
        && !item
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | ',' | '{' | '}'));
    if plain {
        item.to_string()
    } else {
        format!("\"{}\"", item.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// An element of a catalog array as SQL: an integer when it is one (`indkey`,
/// `conkey`...), else text.
fn element_value(item: Option<String>) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match item {
        None => Value::Null,
        Some(t) => t
            .parse::<i64>()
            .map_or_else(|_| Value::Text(t), Value::Integer),
    }
}

/// An array's text form of these elements, quoted as PostgreSQL's `array_out` quotes.
pub(crate) fn array_text(elements: &[Option<String>]) -> String {
    let items: Vec<String> = elements
        .iter()
        .map(|e| match e {
            None => "NULL".to_string(),
            Some(s) => array_quote(s),
        })
        .collect();
    format!("{{{}}}", items.join(","))
}

/// `array_agg(x)`: the values of a group as an array's text (NULL for no rows).
struct ArrayAgg;

impl rusqlite::functions::Aggregate<Vec<Option<String>>, Option<String>> for ArrayAgg {
    fn init(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
    ) -> rusqlite::Result<Vec<Option<String>>> {
        Ok(Vec::new())
    }

    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        acc: &mut Vec<Option<String>>,
    ) -> rusqlite::Result<()> {
        use rusqlite::types::ValueRef;
        acc.push(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i.to_string()),
            ValueRef::Real(f) => Some(crate::types::format_float(f)),
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
        });
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        acc: Option<Vec<Option<String>>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.map(|a| array_text(&a)))
    }
}

/// A size in bytes as PostgreSQL's `pg_size_pretty(bigint)` prints it: bytes below
/// 10 kB, then the largest unit (kB, MB, GB, TB, PB) leaving at least 10 of it,
/// rounded half away from zero.
pub(crate) fn size_pretty(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes.unsigned_abs() < 10 * 1024 {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // In halves of the unit until the last halving, as PostgreSQL divides.
    let mut size = bytes / (1 << 9);
    for (i, unit) in UNITS.iter().enumerate() {
        if i == UNITS.len() - 1 || size.unsigned_abs() < 20 * 1024 - 1 {
            return format!("{} {unit}", half_rounded(size));
        }
        size /= 1 << 10;
    }
    unreachable!("the last unit returns")
}

/// Registers the catalog's SQL functions: `format_type`, `pg_encoding_to_char`,
/// `pg_regex` (the `~` operators), `pg_array_contains`, `pg_array_get`, `pg_array_json`
/// (an array as JSON, for `unnest`), `array_length`, `pg_size_pretty`, `array_upper`,
/// `array_to_string`, `current_schemas`, `pg_partition_ancestors`,
/// `pg_relation_is_publishable`,
/// `pg_get_statisticsobjdef_columns`, and `pg_undefined` (the error of a `::regclass`
/// cast naming no relation), `pg_add`/`pg_sub`/`pg_mul`/`pg_div`/`pg_mod` and the
/// `pg_sum`/`pg_avg` aggregates (PostgreSQL's arithmetic, see [`crate::arith`]) and
/// `pg_bool_in` (the operand of a
/// cast to `bool`, read as PostgreSQL's `boolin` reads text).
/// `pg_sum` (false) or `pg_avg` (true): see [`crate::arith::Sum`].
struct SumAggregate(bool);

impl rusqlite::functions::Aggregate<crate::arith::Sum, rusqlite::types::Value> for SumAggregate {
    fn init(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
    ) -> rusqlite::Result<crate::arith::Sum> {
        Ok(crate::arith::Sum::new())
    }

    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        sum: &mut crate::arith::Sum,
    ) -> rusqlite::Result<()> {
        sum.step(&ctx.get::<rusqlite::types::Value>(0)?)
            .map_err(arith_error)
    }

    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        sum: Option<crate::arith::Sum>,
    ) -> rusqlite::Result<rusqlite::types::Value> {
        let sum = sum.unwrap_or_default();
        if self.0 { sum.avg() } else { sum.sum() }.map_err(arith_error)
    }
}

fn arith_error(f: crate::arith::Failure) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(format!("[{}] {}", f.code, f.message).into())
}

pub(crate) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::Value;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let user_error = |m: String| rusqlite::Error::UserFunctionError(m.into());
    conn.create_scalar_function("format_type", 2, flags, |ctx| {
        let oid: Option<i64> = ctx.get(0)?;
        Ok(oid.map(|o| format_type(o, ctx.get(1).ok().flatten()).unwrap_or_else(|| "???".into())))
    })?;
    conn.create_scalar_function("pg_encoding_to_char", 1, flags, |ctx| {
        let e: Option<i64> = ctx.get(0)?;
        Ok(e.map(|e| if e == 6 { "UTF8" } else { "" }.to_string()))
    })?;
    let cache =
        std::sync::Mutex::new(std::collections::HashMap::<(String, bool), regex::Regex>::new());
    conn.create_scalar_function("pg_regex", 3, flags, move |ctx| {
        let (Some(text), Some(pattern)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        let ci = ctx.get::<i64>(2)? != 0;
        let mut cache = cache
            .lock()
            .map_err(|_| user_error("regular expression cache poisoned".into()))?;
        let key = (pattern.clone(), ci);
        if !cache.contains_key(&key) {
            let re = regex::RegexBuilder::new(&pattern)
                .case_insensitive(ci)
                .build()
                .map_err(|e| user_error(format!("invalid regular expression: {e}")))?;
            if cache.len() > 256 {
                cache.clear();
            }
            cache.insert(key.clone(), re);
        }
        Ok(cache.get(&key).map(|re| re.is_match(&text)))
    })?;
    conn.create_scalar_function("pg_array_contains", 2, flags, |ctx| {
        let (Some(array), Some(item)) = (
            ctx.get::<Option<String>>(0)?,
            ctx.get::<Option<String>>(1).ok().flatten(),
        ) else {
            return Ok(None);
        };
        Ok(Some(array_items(&array).contains(&item)))
    })?;
    conn.create_scalar_function("pg_array_get", 2, flags, |ctx| {
        let (Some(array), Some(i)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(None);
        };
        let (items, lower) = (array_elements(&array), array_lower(&array));
        Ok(usize::try_from(i - lower)
            .ok()
            .and_then(|i| items.get(i).cloned().flatten()))
    })?;
    // The `n`th element (from 1, whatever the lower bound), for set-returning
    // functions that walk an array.
    conn.create_scalar_function("pg_array_nth", 2, flags, |ctx| {
        let (Some(array), Some(n)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(None);
        };
        Ok(usize::try_from(n - 1)
            .ok()
            .and_then(|i| array_elements(&array).get(i).cloned().flatten()))
    })?;
    conn.create_scalar_function("pg_array_json", 1, flags, |ctx| {
        let Some(array) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let json = array_elements(&array)
            .iter()
            .map(|t| match t {
                Some(t) => format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
                None => "null".to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
        Ok(Some(format!("[{json}]")))
    })?;
    // Set-returning functions in a select list (see `pgsql::rewrite_select_list_srf`):
    // the query is joined with `json_each(pg_srf_range(n))`, n the longest array, and
    // each call reads its array at that row's position.
    conn.create_scalar_function("pg_array_count", 1, flags, |ctx| {
        let n = ctx
            .get::<Option<String>>(0)?
            .map_or(0, |a| array_elements(&a).len());
        Ok(i64::try_from(n).unwrap_or(0))
    })?;
    conn.create_scalar_function("pg_srf_range", 1, flags, move |ctx| {
        let n = ctx.get::<Option<i64>>(0)?.unwrap_or(0).max(0);
        if n > 10_000_000 {
            return Err(user_error(format!(
                "[54000] set-returning function of {n} rows"
            )));
        }
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        Ok(format!("[{}]", items.join(",")))
    })?;
    // `information_schema._pg_expandarray(a)`'s row `(x,n)`, as PostgreSQL writes it.
    conn.create_scalar_function("pg_srf_expand", 2, flags, |ctx| {
        let (Some(array), Some(i)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(None);
        };
        let items = array_elements(&array);
        Ok(usize::try_from(i)
            .ok()
            .and_then(|p| items.get(p))
            .map(|x| format!("({},{})", x.as_deref().unwrap_or(""), i + 1)))
    })?;
    // A field of a row's text `(a,b)` by position (the only rows this server makes are
    // `_pg_expandarray`'s).
    conn.create_scalar_function("pg_record_field", 2, flags, |ctx| {
        let (Some(row), Some(k)) = (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(Value::Null);
        };
        let inner = row
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(&row);
        let field = usize::try_from(k - 1)
            .ok()
            .and_then(|k| inner.split(',').nth(k))
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        Ok(element_value(field))
    })?;
    conn.create_scalar_function("quote_ident", 1, flags, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|n| quote_ident(&n)))
    })?;
    conn.create_scalar_function("pg_unsupported", 1, flags, move |ctx| {
        let what: String = ctx.get(0)?;
        Err::<i64, _>(user_error(format!("[0A000] {what} is not supported")))
    })?;
    for op in [
        crate::arith::Op::Add,
        crate::arith::Op::Sub,
        crate::arith::Op::Mul,
        crate::arith::Op::Div,
        crate::arith::Op::Mod,
    ] {
        conn.create_scalar_function(op.function(), 2, flags, move |ctx| {
            crate::arith::apply(op, &ctx.get::<Value>(0)?, &ctx.get::<Value>(1)?)
                .map_err(arith_error)
        })?;
    }
    for (name, args) in [
        ("substr", 2),
        ("substr", 3),
        ("substring", 2),
        ("substring", 3),
    ] {
        conn.create_scalar_function(name, args, flags, move |ctx| {
            let (Some(s), Some(start)) =
                (ctx.get::<Option<String>>(0)?, ctx.get::<Option<i64>>(1)?)
            else {
                return Ok(None);
            };
            let count = if args == 3 {
                match ctx.get::<Option<i64>>(2)? {
                    Some(n) => Some(n),
                    None => return Ok(None),
                }
            } else {
                None
            };
            crate::arith::substring(&s, start, count)
                .map(Some)
                .map_err(arith_error)
        })?;
    }
    conn.create_scalar_function("position", 2, flags, |ctx| {
        let (Some(needle), Some(s)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        Ok(Some(crate::arith::position(&needle, &s)))
    })?;
    conn.create_scalar_function("pg_number_in", 2, flags, |ctx| {
        let ty: String = ctx.get(1)?;
        crate::arith::number_in(&ctx.get::<Value>(0)?, &ty).map_err(arith_error)
    })?;
    // The type-aware pass's functions (see the `typed` module).
    conn.create_scalar_function("pg_numeric_text", 2, flags, |ctx| {
        crate::arith::numeric_text(&ctx.get::<Value>(0)?, ctx.get(1)?).map_err(arith_error)
    })?;
    conn.create_scalar_function("pg_round", 2, flags, |ctx| {
        let Some(digits) = ctx.get::<Option<i64>>(1)? else {
            return Ok(Value::Null);
        };
        crate::arith::round(&ctx.get::<Value>(0)?, digits).map_err(arith_error)
    })?;
    conn.create_scalar_function("pg_bool_text", 1, flags, |ctx| {
        crate::arith::bool_text(&ctx.get::<Value>(0)?).map_err(arith_error)
    })?;
    for (name, bytes) in [("pg_int4", 4), ("pg_int2", 2)] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            crate::arith::int_result(&ctx.get::<Value>(0)?, bytes).map_err(arith_error)
        })?;
    }
    conn.create_scalar_function("pg_int4_unsure", 1, flags, |ctx| {
        crate::arith::int4_unsure(&ctx.get::<Value>(0)?).map_err(arith_error)
    })?;
    conn.create_aggregate_function("pg_sum", 1, flags, SumAggregate(false))?;
    conn.create_aggregate_function("pg_avg", 1, flags, SumAggregate(true))?;
    conn.create_scalar_function("pg_bool_in", 1, flags, move |ctx| {
        match ctx.get::<Value>(0)? {
            Value::Null => Ok(Value::Null),
            Value::Integer(i) => Ok(Value::Integer(i64::from(i != 0))),
            Value::Text(t) => match crate::types::parse_bool(&t) {
                Some(b) => Ok(Value::Integer(i64::from(b))),
                None => Err(user_error(format!(
                    "[22P02] invalid input syntax for type boolean: \"{t}\""
                ))),
            },
            _ => Err(user_error(
                "[0A000] a cast of this value to boolean is not supported".to_string(),
            )),
        }
    })?;
    conn.create_scalar_function("pg_builtin_proc_name", 1, flags, |ctx| {
        let oid = ctx.get::<Option<i64>>(0).ok().flatten();
        Ok(oid.and_then(|o| INPUT_FUNCTIONS.iter().find(|f| f.1 == o).map(|f| f.2)))
    })?;
    // Prepared in pgcli's queries over `pg_proc`, which lists no SQL function here: an
    // error if it ever runs, since SQLite cannot return its rows from a select list.
    conn.create_scalar_function("regexp_split_to_table", 2, flags, move |_| {
        Err::<i64, _>(user_error(
            "[0A000] regexp_split_to_table() in a select list is not supported".into(),
        ))
    })?;
    conn.create_scalar_function("array_upper", 2, flags, |ctx| {
        let Some(array) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let (items, lower) = (array_elements(&array), array_lower(&array));
        let n = i64::try_from(items.len()).unwrap_or(0);
        Ok((n > 0).then_some(lower + n - 1))
    })?;
    conn.create_scalar_function("array_length", 2, flags, |ctx| {
        let Some(array) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let n = i64::try_from(array_elements(&array).len()).unwrap_or(0);
        Ok((n > 0 && ctx.get::<Option<i64>>(1)? == Some(1)).then_some(n))
    })?;
    conn.create_scalar_function("pg_size_pretty", 1, flags, |ctx| {
        Ok(ctx.get::<Option<i64>>(0)?.map(size_pretty))
    })?;
    // `pg_proc` lists no function and `pg_rewrite` no rule but views' `_RETURN`, so
    // nothing asks these of one.
    for name in [
        "pg_get_function_result",
        "pg_get_function_arguments",
        "pg_get_function_identity_arguments",
        "pg_get_ruledef",
    ] {
        conn.create_scalar_function(name, -1, flags, move |_| {
            Err::<i64, _>(user_error(format!("[0A000] {name}() is not supported")))
        })?;
    }
    conn.create_scalar_function("array_to_string", 2, flags, |ctx| {
        let (Some(array), Some(sep)) =
            (ctx.get::<Option<String>>(0)?, ctx.get::<Option<String>>(1)?)
        else {
            return Ok(None);
        };
        Ok(Some(array_items(&array).join(&sep)))
    })?;
    conn.create_scalar_function("current_schemas", 1, flags, |ctx| {
        let implicit = ctx.get::<Option<bool>>(0)?.unwrap_or(false);
        Ok(if implicit {
            "{pg_catalog,public}"
        } else {
            "{public}"
        }
        .to_string())
    })?;
    conn.create_scalar_function("pg_partition_ancestors", 1, flags, |ctx| {
        ctx.get::<Value>(0)
    })?;
    conn.create_scalar_function("pg_relation_is_publishable", 1, flags, |_| Ok(false))?;
    conn.create_scalar_function("pg_catalog_table_oid", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|n| crate::pgsql::catalog_table_oid(&n)))
    })?;
    // A relation or type name as `::regclass` reads it: `public."T"` is `T`, `Books`
    // `books`.
    conn.create_scalar_function("pg_unqualify", 1, flags, |ctx| {
        let Some(name) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let last = match name.rfind("\".") {
            Some(p) => name.get(p + 2..).unwrap_or(""),
            None if !name.starts_with('"') => name.rsplit('.').next().unwrap_or(""),
            None => name.as_str(),
        };
        Ok(Some(
            match last.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
                Some(q) => q.replace("\"\"", "\""),
                None => last.to_ascii_lowercase(),
            },
        ))
    })?;
    // Every type and function is in `pg_catalog` or `public`, both on the search path.
    for name in [
        "pg_type_is_visible",
        "pg_function_is_visible",
        "pg_collation_is_visible",
    ] {
        conn.create_scalar_function(name, 1, flags, |ctx| {
            Ok(ctx.get::<Option<i64>>(0)?.map(|_| true))
        })?;
    }
    conn.create_scalar_function("pg_get_statisticsobjdef_columns", 1, flags, |_| {
        Ok(None::<String>)
    })?;
    // 0 for dimension 1, the only one of the arrays here (`generate_subscripts`).
    conn.create_scalar_function("pg_first_dimension", 1, flags, move |ctx| {
        match ctx.get::<Option<i64>>(0)? {
            Some(1) => Ok(0),
            _ => Err(user_error(
                "generate_subscripts() of a dimension other than 1 is not supported".to_string(),
            )),
        }
    })?;
    conn.create_aggregate_function("array_agg", 1, flags, ArrayAgg)?;
    // `pg_typed(x, 'TYPE')` is `x`, described as TYPE (see the `select_list` module).
    conn.create_scalar_function("pg_typed", 2, flags, |ctx| ctx.get::<Value>(0))?;
    // The subscripts of the longest of some arrays, from 0, as a JSON array (for
    // `json_each`).
    conn.create_scalar_function("pg_srf_series", -1, flags, |ctx| {
        let mut longest = 0;
        for i in 0..ctx.len() {
            if let Some(a) = ctx.get::<Option<String>>(i)? {
                longest = longest.max(array_elements(&a).len());
            }
        }
        let items: Vec<String> = (0..longest).map(|i| i.to_string()).collect();
        Ok(format!("[{}]", items.join(",")))
    })?;
    conn.create_scalar_function("pg_undefined", 2, flags, move |ctx| {
        let what: String = ctx.get(0)?;
        let name: String = ctx.get(1)?;
        let what = if what == "class" {
            "relation"
        } else {
            what.as_str()
        };
        Err::<i64, _>(user_error(format!("{what} \"{name}\" does not exist")))
    })?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn types_of_declarations() {
        assert_eq!(pg_type_of("INTEGER"), (23, -1));
        assert_eq!(pg_type_of("varchar(20)"), (1043, 24));
        assert_eq!(pg_type_of("numeric(10,2)"), (1700, (10 << 16) + 6));
        assert_eq!(pg_type_of("double precision"), (701, -1));
        assert_eq!(
            format_type(1043, Some(24)).as_deref(),
            Some("character varying(20)")
        );
        assert_eq!(
            format_type(1700, Some((10 << 16) + 6)).as_deref(),
            Some("numeric(10,2)")
        );
        assert_eq!(format_type(23, None).as_deref(), Some("integer"));
        assert_eq!(
            format_type(1184, Some(3)).as_deref(),
            Some("timestamp(3) with time zone")
        );
        assert_eq!(pg_type_of("char"), (1042, 5));
        assert_eq!(pg_type_of("timestamp(3)"), (1114, 3));
    }

    #[test]
    fn sizes_print_as_postgresql_prints_them() {
        // PostgreSQL 15's `pg_size_pretty` for the same numbers.
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(8192), "8192 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(-10240), "-10 kB");
        assert_eq!(size_pretty(20 * 1024 * 1024 - 1), "20 MB");
        assert_eq!(size_pretty(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_pretty(1_000_000_000), "954 MB");
        assert_eq!(size_pretty(i64::MAX), "8192 PB");
    }

    #[test]
    fn oids_are_stable() {
        assert_eq!(stable_oid("table", "t"), stable_oid("table", "t"));
        assert_ne!(stable_oid("table", "t"), stable_oid("index", "t"));
        assert!(stable_oid("table", "t") >= 16384);
    }

    /// An in-memory connection with the catalog installed (the session's functions it
    /// needs answer `me` and `db`).
    pub(crate) fn installed() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.create_scalar_function(
            "current_user",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |_| Ok("me".to_string()),
        )
        .unwrap();
        conn.create_scalar_function(
            "current_database",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |_| Ok("db".to_string()),
        )
        .unwrap();
        conn.create_scalar_function(
            "pgproto_main_database",
            0,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |_| Ok("db".to_string()),
        )
        .unwrap();
        install(&conn).unwrap();
        conn
    }

    #[test]
    fn array_types_are_listed() {
        let conn = installed();
        let q =
            |sql: &str| -> String { conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap() };
        assert_eq!(
            q("SELECT typname || ' ' || typelem || ' ' || typcategory || ' ' || typlen || ' ' || typinput
               FROM pg_type WHERE oid = 1007"),
            "_int4 23 A -1 750"
        );
        assert_eq!(
            q("SELECT CAST(typarray AS TEXT) FROM pg_type WHERE typname = 'int8'"),
            "1016"
        );
        assert_eq!(
            q("SELECT CAST(typcollation AS TEXT) FROM pg_type WHERE typname = '_text'"),
            "100"
        );
        assert_eq!(
            q("SELECT CAST(typarray AS TEXT) FROM pg_type WHERE typname = 'uuid'"),
            "0"
        );
    }

    #[test]
    fn catalog_follows_the_schema() {
        let conn = installed();
        conn.execute_batch(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, e text UNIQUE);
             CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id) ON DELETE CASCADE);",
        )
        .unwrap();
        refresh(&conn).unwrap();
        let names: Vec<String> = conn
            .prepare("SELECT relname FROM pg_class ORDER BY relname")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(names, ["a", "a_e_key", "a_pkey", "b", "b_pkey"]);
        let def: String = conn
            .query_row(
                "SELECT def FROM pg_catalog_defs d JOIN pg_constraint c ON c.oid = d.oid WHERE contype = 'f'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(def, "FOREIGN KEY (a_id) REFERENCES a(id) ON DELETE CASCADE");
        // A foreign key depends on the referenced key's index.
        let (conindid, pkey): (i64, i64) = conn
            .query_row(
                "SELECT conindid, (SELECT oid FROM pg_class WHERE relname = 'a_pkey')
                 FROM pg_constraint WHERE contype = 'f'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(conindid, pkey);
        conn.execute_batch("DROP TABLE b").unwrap();
        refresh(&conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM pg_class", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(array_items("{a,b}"), ["a", "b"]);
    }

    #[test]
    fn arrays_and_vectors() {
        let text = r#"{a,"b,c",NULL,"",  "q\"x"}"#;
        assert_eq!(
            array_elements(text),
            vec![
                Some("a".to_string()),
                Some("b,c".to_string()),
                None,
                Some(String::new()),
                Some("q\"x".to_string())
            ]
        );
        assert_eq!(array_lower(text), 1);
        assert_eq!(
            array_elements("1 3"),
            vec![Some("1".to_string()), Some("3".to_string())]
        );
        assert_eq!(array_lower("1 3"), 0);
        assert_eq!(array_elements("{}"), vec![]);
        for item in ["a", "b,c", "", "NULL", "x y", "q\"x"] {
            let text = format!("{{{}}}", array_quote(item));
            assert_eq!(array_items(&text), [item], "{text}");
        }
    }

    #[test]
    fn catalog_functions_for_drivers() {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let q = |sql: &str| -> String {
            use rusqlite::types::Value;
            match conn.query_row(sql, [], |r| r.get::<_, Value>(0)).unwrap() {
                Value::Null => "NULL".into(),
                Value::Integer(i) => i.to_string(),
                Value::Text(t) => t,
                other => format!("{other:?}"),
            }
        };
        // int2vector subscripts from 0, arrays from 1.
        assert_eq!(q("SELECT pg_array_get('3 4', 0)"), "3");
        assert_eq!(q("SELECT pg_array_get('{3,4}', 2)"), "4");
        assert_eq!(q("SELECT array_upper('3 4', 1)"), "1");
        assert_eq!(
            q("SELECT group_concat(pg_srf_expand('5 6', key), ';') FROM json_each(pg_srf_range(2))"),
            "(5,1);(6,2)"
        );
        assert_eq!(q("SELECT typeof(pg_record_field('(5,1)', 1))"), "integer");
    }
}
