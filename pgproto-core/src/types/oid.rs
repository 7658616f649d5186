//! OIDs of PostgreSQL's built-in types, and what the catalog says about them.
//!
//! Every constant is the `pg_type.oid` of a type created by `initdb`; these never change
//! between server versions. An array type is named after its element with an `_ARRAY`
//! suffix (`INT4_ARRAY` is `_int4`, 1007). Types created later (extensions such as
//! `citext` or `hstore`, enums, domains, composite types) get OIDs assigned at creation
//! time: ask the server's `pg_type` for those.
//!
//! The lookups ([`type_name`], [`element_of`], [`array_of`], [`typlen`]) know only the
//! types listed here and return `None` for any other OID.

use crate::message::Oid;

/// "No type" or "unspecified": in a Parse message, lets the server infer the parameter's
/// type; in this module's codecs, means "use the value's natural type".
pub const UNSPECIFIED: Oid = 0;

/// What the catalog says about one built-in type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeInfo {
    oid: Oid,
    name: &'static str,
    len: i16,
    element: Oid,
    array: Oid,
}

impl TypeInfo {
    const fn new(oid: Oid, name: &'static str, len: i16, element: Oid, array: Oid) -> Self {
        Self {
            oid,
            name,
            len,
            element,
            array,
        }
    }
}

fn info(oid: Oid) -> Option<&'static TypeInfo> {
    BUILTIN
        .binary_search_by_key(&oid, |t| t.oid)
        .ok()
        .and_then(|i| BUILTIN.get(i))
}

/// The `pg_type.typname` of a built-in type (`type_name(23) == Some("int4")`; arrays are
/// named with a leading underscore, `"_int4"`).
pub fn type_name(oid: Oid) -> Option<&'static str> {
    info(oid).map(|t| t.name)
}

/// The OID of a built-in type with this `typname` (`oid_of("int4") == Some(23)`).
pub fn oid_of(name: &str) -> Option<Oid> {
    BUILTIN.iter().find(|t| t.name == name).map(|t| t.oid)
}

/// The element type of a built-in array type (`element_of(1007) == Some(23)`), `None`
/// if `oid` is not a known array type.
///
/// Fixed-length types that PostgreSQL lets you subscript (`name`, `point`) are not
/// arrays here.
pub fn element_of(array: Oid) -> Option<Oid> {
    info(array).map(|t| t.element).filter(|&e| e != 0)
}

/// The array type whose elements are `element` (`array_of(23) == Some(1007)`), `None`
/// for types without a built-in array type.
pub fn array_of(element: Oid) -> Option<Oid> {
    info(element).map(|t| t.array).filter(|&a| a != 0)
}

/// Whether `oid` is a known built-in array type.
pub fn is_array(oid: Oid) -> bool {
    element_of(oid).is_some()
}

/// `pg_type.typlen`: the size in bytes of a fixed-length type, `-1` for a variable-length
/// type (`varlena`), `-2` for a NUL-terminated C string; `None` for an unknown OID.
pub fn typlen(oid: Oid) -> Option<i16> {
    info(oid).map(|t| t.len)
}

// Generated from the catalog of PostgreSQL 15 (`select oid, typname, typarray, typlen
// from pg_type`); do not edit by hand.

/// `bool` (16), base type.
pub const BOOL: Oid = 16;
/// `_bool` (1000), array of [`BOOL`].
pub const BOOL_ARRAY: Oid = 1000;
/// `bytea` (17), base type.
pub const BYTEA: Oid = 17;
/// `_bytea` (1001), array of [`BYTEA`].
pub const BYTEA_ARRAY: Oid = 1001;
/// `char` (18), base type.
pub const CHAR: Oid = 18;
/// `_char` (1002), array of [`CHAR`].
pub const CHAR_ARRAY: Oid = 1002;
/// `name` (19), base type.
pub const NAME: Oid = 19;
/// `_name` (1003), array of [`NAME`].
pub const NAME_ARRAY: Oid = 1003;
/// `int8` (20), base type.
pub const INT8: Oid = 20;
/// `_int8` (1016), array of [`INT8`].
pub const INT8_ARRAY: Oid = 1016;
/// `int2` (21), base type.
pub const INT2: Oid = 21;
/// `_int2` (1005), array of [`INT2`].
pub const INT2_ARRAY: Oid = 1005;
/// `int2vector` (22), base type.
pub const INT2VECTOR: Oid = 22;
/// `_int2vector` (1006), array of [`INT2VECTOR`].
pub const INT2VECTOR_ARRAY: Oid = 1006;
/// `int4` (23), base type.
pub const INT4: Oid = 23;
/// `_int4` (1007), array of [`INT4`].
pub const INT4_ARRAY: Oid = 1007;
/// `regproc` (24), base type.
pub const REGPROC: Oid = 24;
/// `_regproc` (1008), array of [`REGPROC`].
pub const REGPROC_ARRAY: Oid = 1008;
/// `text` (25), base type.
pub const TEXT: Oid = 25;
/// `_text` (1009), array of [`TEXT`].
pub const TEXT_ARRAY: Oid = 1009;
/// `oid` (26), base type.
pub const OID: Oid = 26;
/// `_oid` (1028), array of [`OID`].
pub const OID_ARRAY: Oid = 1028;
/// `tid` (27), base type.
pub const TID: Oid = 27;
/// `_tid` (1010), array of [`TID`].
pub const TID_ARRAY: Oid = 1010;
/// `xid` (28), base type.
pub const XID: Oid = 28;
/// `_xid` (1011), array of [`XID`].
pub const XID_ARRAY: Oid = 1011;
/// `cid` (29), base type.
pub const CID: Oid = 29;
/// `_cid` (1012), array of [`CID`].
pub const CID_ARRAY: Oid = 1012;
/// `oidvector` (30), base type.
pub const OIDVECTOR: Oid = 30;
/// `_oidvector` (1013), array of [`OIDVECTOR`].
pub const OIDVECTOR_ARRAY: Oid = 1013;
/// `json` (114), base type.
pub const JSON: Oid = 114;
/// `_json` (199), array of [`JSON`].
pub const JSON_ARRAY: Oid = 199;
/// `xml` (142), base type.
pub const XML: Oid = 142;
/// `_xml` (143), array of [`XML`].
pub const XML_ARRAY: Oid = 143;
/// `table_am_handler` (269), pseudo-type type.
pub const TABLE_AM_HANDLER: Oid = 269;
/// `index_am_handler` (325), pseudo-type type.
pub const INDEX_AM_HANDLER: Oid = 325;
/// `point` (600), base type.
pub const POINT: Oid = 600;
/// `_point` (1017), array of [`POINT`].
pub const POINT_ARRAY: Oid = 1017;
/// `lseg` (601), base type.
pub const LSEG: Oid = 601;
/// `_lseg` (1018), array of [`LSEG`].
pub const LSEG_ARRAY: Oid = 1018;
/// `path` (602), base type.
pub const PATH: Oid = 602;
/// `_path` (1019), array of [`PATH`].
pub const PATH_ARRAY: Oid = 1019;
/// `box` (603), base type.
pub const BOX: Oid = 603;
/// `_box` (1020), array of [`BOX`].
pub const BOX_ARRAY: Oid = 1020;
/// `polygon` (604), base type.
pub const POLYGON: Oid = 604;
/// `_polygon` (1027), array of [`POLYGON`].
pub const POLYGON_ARRAY: Oid = 1027;
/// `line` (628), base type.
pub const LINE: Oid = 628;
/// `_line` (629), array of [`LINE`].
pub const LINE_ARRAY: Oid = 629;
/// `cidr` (650), base type.
pub const CIDR: Oid = 650;
/// `_cidr` (651), array of [`CIDR`].
pub const CIDR_ARRAY: Oid = 651;
/// `float4` (700), base type.
pub const FLOAT4: Oid = 700;
/// `_float4` (1021), array of [`FLOAT4`].
pub const FLOAT4_ARRAY: Oid = 1021;
/// `float8` (701), base type.
pub const FLOAT8: Oid = 701;
/// `_float8` (1022), array of [`FLOAT8`].
pub const FLOAT8_ARRAY: Oid = 1022;
/// `unknown` (705), pseudo-type type.
pub const UNKNOWN: Oid = 705;
/// `circle` (718), base type.
pub const CIRCLE: Oid = 718;
/// `_circle` (719), array of [`CIRCLE`].
pub const CIRCLE_ARRAY: Oid = 719;
/// `macaddr8` (774), base type.
pub const MACADDR8: Oid = 774;
/// `_macaddr8` (775), array of [`MACADDR8`].
pub const MACADDR8_ARRAY: Oid = 775;
/// `money` (790), base type.
pub const MONEY: Oid = 790;
/// `_money` (791), array of [`MONEY`].
pub const MONEY_ARRAY: Oid = 791;
/// `macaddr` (829), base type.
pub const MACADDR: Oid = 829;
/// `_macaddr` (1040), array of [`MACADDR`].
pub const MACADDR_ARRAY: Oid = 1040;
/// `inet` (869), base type.
pub const INET: Oid = 869;
/// `_inet` (1041), array of [`INET`].
pub const INET_ARRAY: Oid = 1041;
/// `aclitem` (1033), base type.
pub const ACLITEM: Oid = 1033;
/// `_aclitem` (1034), array of [`ACLITEM`].
pub const ACLITEM_ARRAY: Oid = 1034;
/// `bpchar` (1042), base type.
pub const BPCHAR: Oid = 1042;
/// `_bpchar` (1014), array of [`BPCHAR`].
pub const BPCHAR_ARRAY: Oid = 1014;
/// `varchar` (1043), base type.
pub const VARCHAR: Oid = 1043;
/// `_varchar` (1015), array of [`VARCHAR`].
pub const VARCHAR_ARRAY: Oid = 1015;
/// `date` (1082), base type.
pub const DATE: Oid = 1082;
/// `_date` (1182), array of [`DATE`].
pub const DATE_ARRAY: Oid = 1182;
/// `time` (1083), base type.
pub const TIME: Oid = 1083;
/// `_time` (1183), array of [`TIME`].
pub const TIME_ARRAY: Oid = 1183;
/// `timestamp` (1114), base type.
pub const TIMESTAMP: Oid = 1114;
/// `_timestamp` (1115), array of [`TIMESTAMP`].
pub const TIMESTAMP_ARRAY: Oid = 1115;
/// `timestamptz` (1184), base type.
pub const TIMESTAMPTZ: Oid = 1184;
/// `_timestamptz` (1185), array of [`TIMESTAMPTZ`].
pub const TIMESTAMPTZ_ARRAY: Oid = 1185;
/// `interval` (1186), base type.
pub const INTERVAL: Oid = 1186;
/// `_interval` (1187), array of [`INTERVAL`].
pub const INTERVAL_ARRAY: Oid = 1187;
/// `timetz` (1266), base type.
pub const TIMETZ: Oid = 1266;
/// `_timetz` (1270), array of [`TIMETZ`].
pub const TIMETZ_ARRAY: Oid = 1270;
/// `bit` (1560), base type.
pub const BIT: Oid = 1560;
/// `_bit` (1561), array of [`BIT`].
pub const BIT_ARRAY: Oid = 1561;
/// `varbit` (1562), base type.
pub const VARBIT: Oid = 1562;
/// `_varbit` (1563), array of [`VARBIT`].
pub const VARBIT_ARRAY: Oid = 1563;
/// `numeric` (1700), base type.
pub const NUMERIC: Oid = 1700;
/// `_numeric` (1231), array of [`NUMERIC`].
pub const NUMERIC_ARRAY: Oid = 1231;
/// `refcursor` (1790), base type.
pub const REFCURSOR: Oid = 1790;
/// `_refcursor` (2201), array of [`REFCURSOR`].
pub const REFCURSOR_ARRAY: Oid = 2201;
/// `regprocedure` (2202), base type.
pub const REGPROCEDURE: Oid = 2202;
/// `_regprocedure` (2207), array of [`REGPROCEDURE`].
pub const REGPROCEDURE_ARRAY: Oid = 2207;
/// `regoper` (2203), base type.
pub const REGOPER: Oid = 2203;
/// `_regoper` (2208), array of [`REGOPER`].
pub const REGOPER_ARRAY: Oid = 2208;
/// `regoperator` (2204), base type.
pub const REGOPERATOR: Oid = 2204;
/// `_regoperator` (2209), array of [`REGOPERATOR`].
pub const REGOPERATOR_ARRAY: Oid = 2209;
/// `regclass` (2205), base type.
pub const REGCLASS: Oid = 2205;
/// `_regclass` (2210), array of [`REGCLASS`].
pub const REGCLASS_ARRAY: Oid = 2210;
/// `regtype` (2206), base type.
pub const REGTYPE: Oid = 2206;
/// `_regtype` (2211), array of [`REGTYPE`].
pub const REGTYPE_ARRAY: Oid = 2211;
/// `record` (2249), pseudo-type type.
pub const RECORD: Oid = 2249;
/// `_record` (2287), array of [`RECORD`].
pub const RECORD_ARRAY: Oid = 2287;
/// `cstring` (2275), pseudo-type type.
pub const CSTRING: Oid = 2275;
/// `_cstring` (1263), array of [`CSTRING`].
pub const CSTRING_ARRAY: Oid = 1263;
/// `any` (2276), pseudo-type type.
pub const ANY: Oid = 2276;
/// `anyarray` (2277), pseudo-type type.
pub const ANYARRAY: Oid = 2277;
/// `void` (2278), pseudo-type type.
pub const VOID: Oid = 2278;
/// `trigger` (2279), pseudo-type type.
pub const TRIGGER: Oid = 2279;
/// `language_handler` (2280), pseudo-type type.
pub const LANGUAGE_HANDLER: Oid = 2280;
/// `internal` (2281), pseudo-type type.
pub const INTERNAL: Oid = 2281;
/// `anyelement` (2283), pseudo-type type.
pub const ANYELEMENT: Oid = 2283;
/// `anynonarray` (2776), pseudo-type type.
pub const ANYNONARRAY: Oid = 2776;
/// `uuid` (2950), base type.
pub const UUID: Oid = 2950;
/// `_uuid` (2951), array of [`UUID`].
pub const UUID_ARRAY: Oid = 2951;
/// `txid_snapshot` (2970), base type.
pub const TXID_SNAPSHOT: Oid = 2970;
/// `_txid_snapshot` (2949), array of [`TXID_SNAPSHOT`].
pub const TXID_SNAPSHOT_ARRAY: Oid = 2949;
/// `fdw_handler` (3115), pseudo-type type.
pub const FDW_HANDLER: Oid = 3115;
/// `pg_lsn` (3220), base type.
pub const PG_LSN: Oid = 3220;
/// `_pg_lsn` (3221), array of [`PG_LSN`].
pub const PG_LSN_ARRAY: Oid = 3221;
/// `tsm_handler` (3310), pseudo-type type.
pub const TSM_HANDLER: Oid = 3310;
/// `anyenum` (3500), pseudo-type type.
pub const ANYENUM: Oid = 3500;
/// `tsvector` (3614), base type.
pub const TSVECTOR: Oid = 3614;
/// `_tsvector` (3643), array of [`TSVECTOR`].
pub const TSVECTOR_ARRAY: Oid = 3643;
/// `tsquery` (3615), base type.
pub const TSQUERY: Oid = 3615;
/// `_tsquery` (3645), array of [`TSQUERY`].
pub const TSQUERY_ARRAY: Oid = 3645;
/// `gtsvector` (3642), base type.
pub const GTSVECTOR: Oid = 3642;
/// `_gtsvector` (3644), array of [`GTSVECTOR`].
pub const GTSVECTOR_ARRAY: Oid = 3644;
/// `regconfig` (3734), base type.
pub const REGCONFIG: Oid = 3734;
/// `_regconfig` (3735), array of [`REGCONFIG`].
pub const REGCONFIG_ARRAY: Oid = 3735;
/// `regdictionary` (3769), base type.
pub const REGDICTIONARY: Oid = 3769;
/// `_regdictionary` (3770), array of [`REGDICTIONARY`].
pub const REGDICTIONARY_ARRAY: Oid = 3770;
/// `jsonb` (3802), base type.
pub const JSONB: Oid = 3802;
/// `_jsonb` (3807), array of [`JSONB`].
pub const JSONB_ARRAY: Oid = 3807;
/// `anyrange` (3831), pseudo-type type.
pub const ANYRANGE: Oid = 3831;
/// `event_trigger` (3838), pseudo-type type.
pub const EVENT_TRIGGER: Oid = 3838;
/// `int4range` (3904), range type.
pub const INT4RANGE: Oid = 3904;
/// `_int4range` (3905), array of [`INT4RANGE`].
pub const INT4RANGE_ARRAY: Oid = 3905;
/// `numrange` (3906), range type.
pub const NUMRANGE: Oid = 3906;
/// `_numrange` (3907), array of [`NUMRANGE`].
pub const NUMRANGE_ARRAY: Oid = 3907;
/// `tsrange` (3908), range type.
pub const TSRANGE: Oid = 3908;
/// `_tsrange` (3909), array of [`TSRANGE`].
pub const TSRANGE_ARRAY: Oid = 3909;
/// `tstzrange` (3910), range type.
pub const TSTZRANGE: Oid = 3910;
/// `_tstzrange` (3911), array of [`TSTZRANGE`].
pub const TSTZRANGE_ARRAY: Oid = 3911;
/// `daterange` (3912), range type.
pub const DATERANGE: Oid = 3912;
/// `_daterange` (3913), array of [`DATERANGE`].
pub const DATERANGE_ARRAY: Oid = 3913;
/// `int8range` (3926), range type.
pub const INT8RANGE: Oid = 3926;
/// `_int8range` (3927), array of [`INT8RANGE`].
pub const INT8RANGE_ARRAY: Oid = 3927;
/// `jsonpath` (4072), base type.
pub const JSONPATH: Oid = 4072;
/// `_jsonpath` (4073), array of [`JSONPATH`].
pub const JSONPATH_ARRAY: Oid = 4073;
/// `regnamespace` (4089), base type.
pub const REGNAMESPACE: Oid = 4089;
/// `_regnamespace` (4090), array of [`REGNAMESPACE`].
pub const REGNAMESPACE_ARRAY: Oid = 4090;
/// `regrole` (4096), base type.
pub const REGROLE: Oid = 4096;
/// `_regrole` (4097), array of [`REGROLE`].
pub const REGROLE_ARRAY: Oid = 4097;
/// `regcollation` (4191), base type.
pub const REGCOLLATION: Oid = 4191;
/// `_regcollation` (4192), array of [`REGCOLLATION`].
pub const REGCOLLATION_ARRAY: Oid = 4192;
/// `int4multirange` (4451), multirange type.
pub const INT4MULTIRANGE: Oid = 4451;
/// `_int4multirange` (6150), array of [`INT4MULTIRANGE`].
pub const INT4MULTIRANGE_ARRAY: Oid = 6150;
/// `nummultirange` (4532), multirange type.
pub const NUMMULTIRANGE: Oid = 4532;
/// `_nummultirange` (6151), array of [`NUMMULTIRANGE`].
pub const NUMMULTIRANGE_ARRAY: Oid = 6151;
/// `tsmultirange` (4533), multirange type.
pub const TSMULTIRANGE: Oid = 4533;
/// `_tsmultirange` (6152), array of [`TSMULTIRANGE`].
pub const TSMULTIRANGE_ARRAY: Oid = 6152;
/// `tstzmultirange` (4534), multirange type.
pub const TSTZMULTIRANGE: Oid = 4534;
/// `_tstzmultirange` (6153), array of [`TSTZMULTIRANGE`].
pub const TSTZMULTIRANGE_ARRAY: Oid = 6153;
/// `datemultirange` (4535), multirange type.
pub const DATEMULTIRANGE: Oid = 4535;
/// `_datemultirange` (6155), array of [`DATEMULTIRANGE`].
pub const DATEMULTIRANGE_ARRAY: Oid = 6155;
/// `int8multirange` (4536), multirange type.
pub const INT8MULTIRANGE: Oid = 4536;
/// `_int8multirange` (6157), array of [`INT8MULTIRANGE`].
pub const INT8MULTIRANGE_ARRAY: Oid = 6157;
/// `anymultirange` (4537), pseudo-type type.
pub const ANYMULTIRANGE: Oid = 4537;
/// `anycompatiblemultirange` (4538), pseudo-type type.
pub const ANYCOMPATIBLEMULTIRANGE: Oid = 4538;
/// `pg_snapshot` (5038), base type.
pub const PG_SNAPSHOT: Oid = 5038;
/// `_pg_snapshot` (5039), array of [`PG_SNAPSHOT`].
pub const PG_SNAPSHOT_ARRAY: Oid = 5039;
/// `xid8` (5069), base type.
pub const XID8: Oid = 5069;
/// `_xid8` (271), array of [`XID8`].
pub const XID8_ARRAY: Oid = 271;
/// `anycompatible` (5077), pseudo-type type.
pub const ANYCOMPATIBLE: Oid = 5077;
/// `anycompatiblearray` (5078), pseudo-type type.
pub const ANYCOMPATIBLEARRAY: Oid = 5078;
/// `anycompatiblenonarray` (5079), pseudo-type type.
pub const ANYCOMPATIBLENONARRAY: Oid = 5079;
/// `anycompatiblerange` (5080), pseudo-type type.
pub const ANYCOMPATIBLERANGE: Oid = 5080;

/// Every built-in type this module names, sorted by OID.
static BUILTIN: &[TypeInfo] = &[
    TypeInfo::new(BOOL, "bool", 1, 0, BOOL_ARRAY),
    TypeInfo::new(BYTEA, "bytea", -1, 0, BYTEA_ARRAY),
    TypeInfo::new(CHAR, "char", 1, 0, CHAR_ARRAY),
    TypeInfo::new(NAME, "name", 64, 0, NAME_ARRAY),
    TypeInfo::new(INT8, "int8", 8, 0, INT8_ARRAY),
    TypeInfo::new(INT2, "int2", 2, 0, INT2_ARRAY),
    TypeInfo::new(INT2VECTOR, "int2vector", -1, 0, INT2VECTOR_ARRAY),
    TypeInfo::new(INT4, "int4", 4, 0, INT4_ARRAY),
    TypeInfo::new(REGPROC, "regproc", 4, 0, REGPROC_ARRAY),
    TypeInfo::new(TEXT, "text", -1, 0, TEXT_ARRAY),
    TypeInfo::new(OID, "oid", 4, 0, OID_ARRAY),
    TypeInfo::new(TID, "tid", 6, 0, TID_ARRAY),
    TypeInfo::new(XID, "xid", 4, 0, XID_ARRAY),
    TypeInfo::new(CID, "cid", 4, 0, CID_ARRAY),
    TypeInfo::new(OIDVECTOR, "oidvector", -1, 0, OIDVECTOR_ARRAY),
    TypeInfo::new(JSON, "json", -1, 0, JSON_ARRAY),
    TypeInfo::new(XML, "xml", -1, 0, XML_ARRAY),
    TypeInfo::new(XML_ARRAY, "_xml", -1, XML, 0),
    TypeInfo::new(JSON_ARRAY, "_json", -1, JSON, 0),
    TypeInfo::new(TABLE_AM_HANDLER, "table_am_handler", 4, 0, 0),
    TypeInfo::new(XID8_ARRAY, "_xid8", -1, XID8, 0),
    TypeInfo::new(INDEX_AM_HANDLER, "index_am_handler", 4, 0, 0),
    TypeInfo::new(POINT, "point", 16, 0, POINT_ARRAY),
    TypeInfo::new(LSEG, "lseg", 32, 0, LSEG_ARRAY),
    TypeInfo::new(PATH, "path", -1, 0, PATH_ARRAY),
    TypeInfo::new(BOX, "box", 32, 0, BOX_ARRAY),
    TypeInfo::new(POLYGON, "polygon", -1, 0, POLYGON_ARRAY),
    TypeInfo::new(LINE, "line", 24, 0, LINE_ARRAY),
    TypeInfo::new(LINE_ARRAY, "_line", -1, LINE, 0),
    TypeInfo::new(CIDR, "cidr", -1, 0, CIDR_ARRAY),
    TypeInfo::new(CIDR_ARRAY, "_cidr", -1, CIDR, 0),
    TypeInfo::new(FLOAT4, "float4", 4, 0, FLOAT4_ARRAY),
    TypeInfo::new(FLOAT8, "float8", 8, 0, FLOAT8_ARRAY),
    TypeInfo::new(UNKNOWN, "unknown", -2, 0, 0),
    TypeInfo::new(CIRCLE, "circle", 24, 0, CIRCLE_ARRAY),
    TypeInfo::new(CIRCLE_ARRAY, "_circle", -1, CIRCLE, 0),
    TypeInfo::new(MACADDR8, "macaddr8", 8, 0, MACADDR8_ARRAY),
    TypeInfo::new(MACADDR8_ARRAY, "_macaddr8", -1, MACADDR8, 0),
    TypeInfo::new(MONEY, "money", 8, 0, MONEY_ARRAY),
    TypeInfo::new(MONEY_ARRAY, "_money", -1, MONEY, 0),
    TypeInfo::new(MACADDR, "macaddr", 6, 0, MACADDR_ARRAY),
    TypeInfo::new(INET, "inet", -1, 0, INET_ARRAY),
    TypeInfo::new(BOOL_ARRAY, "_bool", -1, BOOL, 0),
    TypeInfo::new(BYTEA_ARRAY, "_bytea", -1, BYTEA, 0),
    TypeInfo::new(CHAR_ARRAY, "_char", -1, CHAR, 0),
    TypeInfo::new(NAME_ARRAY, "_name", -1, NAME, 0),
    TypeInfo::new(INT2_ARRAY, "_int2", -1, INT2, 0),
    TypeInfo::new(INT2VECTOR_ARRAY, "_int2vector", -1, INT2VECTOR, 0),
    TypeInfo::new(INT4_ARRAY, "_int4", -1, INT4, 0),
    TypeInfo::new(REGPROC_ARRAY, "_regproc", -1, REGPROC, 0),
    TypeInfo::new(TEXT_ARRAY, "_text", -1, TEXT, 0),
    TypeInfo::new(TID_ARRAY, "_tid", -1, TID, 0),
    TypeInfo::new(XID_ARRAY, "_xid", -1, XID, 0),
    TypeInfo::new(CID_ARRAY, "_cid", -1, CID, 0),
    TypeInfo::new(OIDVECTOR_ARRAY, "_oidvector", -1, OIDVECTOR, 0),
    TypeInfo::new(BPCHAR_ARRAY, "_bpchar", -1, BPCHAR, 0),
    TypeInfo::new(VARCHAR_ARRAY, "_varchar", -1, VARCHAR, 0),
    TypeInfo::new(INT8_ARRAY, "_int8", -1, INT8, 0),
    TypeInfo::new(POINT_ARRAY, "_point", -1, POINT, 0),
    TypeInfo::new(LSEG_ARRAY, "_lseg", -1, LSEG, 0),
    TypeInfo::new(PATH_ARRAY, "_path", -1, PATH, 0),
    TypeInfo::new(BOX_ARRAY, "_box", -1, BOX, 0),
    TypeInfo::new(FLOAT4_ARRAY, "_float4", -1, FLOAT4, 0),
    TypeInfo::new(FLOAT8_ARRAY, "_float8", -1, FLOAT8, 0),
    TypeInfo::new(POLYGON_ARRAY, "_polygon", -1, POLYGON, 0),
    TypeInfo::new(OID_ARRAY, "_oid", -1, OID, 0),
    TypeInfo::new(ACLITEM, "aclitem", 12, 0, ACLITEM_ARRAY),
    TypeInfo::new(ACLITEM_ARRAY, "_aclitem", -1, ACLITEM, 0),
    TypeInfo::new(MACADDR_ARRAY, "_macaddr", -1, MACADDR, 0),
    TypeInfo::new(INET_ARRAY, "_inet", -1, INET, 0),
    TypeInfo::new(BPCHAR, "bpchar", -1, 0, BPCHAR_ARRAY),
    TypeInfo::new(VARCHAR, "varchar", -1, 0, VARCHAR_ARRAY),
    TypeInfo::new(DATE, "date", 4, 0, DATE_ARRAY),
    TypeInfo::new(TIME, "time", 8, 0, TIME_ARRAY),
    TypeInfo::new(TIMESTAMP, "timestamp", 8, 0, TIMESTAMP_ARRAY),
    TypeInfo::new(TIMESTAMP_ARRAY, "_timestamp", -1, TIMESTAMP, 0),
    TypeInfo::new(DATE_ARRAY, "_date", -1, DATE, 0),
    TypeInfo::new(TIME_ARRAY, "_time", -1, TIME, 0),
    TypeInfo::new(TIMESTAMPTZ, "timestamptz", 8, 0, TIMESTAMPTZ_ARRAY),
    TypeInfo::new(TIMESTAMPTZ_ARRAY, "_timestamptz", -1, TIMESTAMPTZ, 0),
    TypeInfo::new(INTERVAL, "interval", 16, 0, INTERVAL_ARRAY),
    TypeInfo::new(INTERVAL_ARRAY, "_interval", -1, INTERVAL, 0),
    TypeInfo::new(NUMERIC_ARRAY, "_numeric", -1, NUMERIC, 0),
    TypeInfo::new(CSTRING_ARRAY, "_cstring", -1, CSTRING, 0),
    TypeInfo::new(TIMETZ, "timetz", 12, 0, TIMETZ_ARRAY),
    TypeInfo::new(TIMETZ_ARRAY, "_timetz", -1, TIMETZ, 0),
    TypeInfo::new(BIT, "bit", -1, 0, BIT_ARRAY),
    TypeInfo::new(BIT_ARRAY, "_bit", -1, BIT, 0),
    TypeInfo::new(VARBIT, "varbit", -1, 0, VARBIT_ARRAY),
    TypeInfo::new(VARBIT_ARRAY, "_varbit", -1, VARBIT, 0),
    TypeInfo::new(NUMERIC, "numeric", -1, 0, NUMERIC_ARRAY),
    TypeInfo::new(REFCURSOR, "refcursor", -1, 0, REFCURSOR_ARRAY),
    TypeInfo::new(REFCURSOR_ARRAY, "_refcursor", -1, REFCURSOR, 0),
    TypeInfo::new(REGPROCEDURE, "regprocedure", 4, 0, REGPROCEDURE_ARRAY),
    TypeInfo::new(REGOPER, "regoper", 4, 0, REGOPER_ARRAY),
    TypeInfo::new(REGOPERATOR, "regoperator", 4, 0, REGOPERATOR_ARRAY),
    TypeInfo::new(REGCLASS, "regclass", 4, 0, REGCLASS_ARRAY),
    TypeInfo::new(REGTYPE, "regtype", 4, 0, REGTYPE_ARRAY),
    TypeInfo::new(REGPROCEDURE_ARRAY, "_regprocedure", -1, REGPROCEDURE, 0),
    TypeInfo::new(REGOPER_ARRAY, "_regoper", -1, REGOPER, 0),
    TypeInfo::new(REGOPERATOR_ARRAY, "_regoperator", -1, REGOPERATOR, 0),
    TypeInfo::new(REGCLASS_ARRAY, "_regclass", -1, REGCLASS, 0),
    TypeInfo::new(REGTYPE_ARRAY, "_regtype", -1, REGTYPE, 0),
    TypeInfo::new(RECORD, "record", -1, 0, RECORD_ARRAY),
    TypeInfo::new(CSTRING, "cstring", -2, 0, CSTRING_ARRAY),
    TypeInfo::new(ANY, "any", 4, 0, 0),
    TypeInfo::new(ANYARRAY, "anyarray", -1, 0, 0),
    TypeInfo::new(VOID, "void", 4, 0, 0),
    TypeInfo::new(TRIGGER, "trigger", 4, 0, 0),
    TypeInfo::new(LANGUAGE_HANDLER, "language_handler", 4, 0, 0),
    TypeInfo::new(INTERNAL, "internal", 8, 0, 0),
    TypeInfo::new(ANYELEMENT, "anyelement", 4, 0, 0),
    TypeInfo::new(RECORD_ARRAY, "_record", -1, RECORD, 0),
    TypeInfo::new(ANYNONARRAY, "anynonarray", 4, 0, 0),
    TypeInfo::new(TXID_SNAPSHOT_ARRAY, "_txid_snapshot", -1, TXID_SNAPSHOT, 0),
    TypeInfo::new(UUID, "uuid", 16, 0, UUID_ARRAY),
    TypeInfo::new(UUID_ARRAY, "_uuid", -1, UUID, 0),
    TypeInfo::new(TXID_SNAPSHOT, "txid_snapshot", -1, 0, TXID_SNAPSHOT_ARRAY),
    TypeInfo::new(FDW_HANDLER, "fdw_handler", 4, 0, 0),
    TypeInfo::new(PG_LSN, "pg_lsn", 8, 0, PG_LSN_ARRAY),
    TypeInfo::new(PG_LSN_ARRAY, "_pg_lsn", -1, PG_LSN, 0),
    TypeInfo::new(TSM_HANDLER, "tsm_handler", 4, 0, 0),
    TypeInfo::new(ANYENUM, "anyenum", 4, 0, 0),
    TypeInfo::new(TSVECTOR, "tsvector", -1, 0, TSVECTOR_ARRAY),
    TypeInfo::new(TSQUERY, "tsquery", -1, 0, TSQUERY_ARRAY),
    TypeInfo::new(GTSVECTOR, "gtsvector", -1, 0, GTSVECTOR_ARRAY),
    TypeInfo::new(TSVECTOR_ARRAY, "_tsvector", -1, TSVECTOR, 0),
    TypeInfo::new(GTSVECTOR_ARRAY, "_gtsvector", -1, GTSVECTOR, 0),
    TypeInfo::new(TSQUERY_ARRAY, "_tsquery", -1, TSQUERY, 0),
    TypeInfo::new(REGCONFIG, "regconfig", 4, 0, REGCONFIG_ARRAY),
    TypeInfo::new(REGCONFIG_ARRAY, "_regconfig", -1, REGCONFIG, 0),
    TypeInfo::new(REGDICTIONARY, "regdictionary", 4, 0, REGDICTIONARY_ARRAY),
    TypeInfo::new(REGDICTIONARY_ARRAY, "_regdictionary", -1, REGDICTIONARY, 0),
    TypeInfo::new(JSONB, "jsonb", -1, 0, JSONB_ARRAY),
    TypeInfo::new(JSONB_ARRAY, "_jsonb", -1, JSONB, 0),
    TypeInfo::new(ANYRANGE, "anyrange", -1, 0, 0),
    TypeInfo::new(EVENT_TRIGGER, "event_trigger", 4, 0, 0),
    TypeInfo::new(INT4RANGE, "int4range", -1, 0, INT4RANGE_ARRAY),
    TypeInfo::new(INT4RANGE_ARRAY, "_int4range", -1, INT4RANGE, 0),
    TypeInfo::new(NUMRANGE, "numrange", -1, 0, NUMRANGE_ARRAY),
    TypeInfo::new(NUMRANGE_ARRAY, "_numrange", -1, NUMRANGE, 0),
    TypeInfo::new(TSRANGE, "tsrange", -1, 0, TSRANGE_ARRAY),
    TypeInfo::new(TSRANGE_ARRAY, "_tsrange", -1, TSRANGE, 0),
    TypeInfo::new(TSTZRANGE, "tstzrange", -1, 0, TSTZRANGE_ARRAY),
    TypeInfo::new(TSTZRANGE_ARRAY, "_tstzrange", -1, TSTZRANGE, 0),
    TypeInfo::new(DATERANGE, "daterange", -1, 0, DATERANGE_ARRAY),
    TypeInfo::new(DATERANGE_ARRAY, "_daterange", -1, DATERANGE, 0),
    TypeInfo::new(INT8RANGE, "int8range", -1, 0, INT8RANGE_ARRAY),
    TypeInfo::new(INT8RANGE_ARRAY, "_int8range", -1, INT8RANGE, 0),
    TypeInfo::new(JSONPATH, "jsonpath", -1, 0, JSONPATH_ARRAY),
    TypeInfo::new(JSONPATH_ARRAY, "_jsonpath", -1, JSONPATH, 0),
    TypeInfo::new(REGNAMESPACE, "regnamespace", 4, 0, REGNAMESPACE_ARRAY),
    TypeInfo::new(REGNAMESPACE_ARRAY, "_regnamespace", -1, REGNAMESPACE, 0),
    TypeInfo::new(REGROLE, "regrole", 4, 0, REGROLE_ARRAY),
    TypeInfo::new(REGROLE_ARRAY, "_regrole", -1, REGROLE, 0),
    TypeInfo::new(REGCOLLATION, "regcollation", 4, 0, REGCOLLATION_ARRAY),
    TypeInfo::new(REGCOLLATION_ARRAY, "_regcollation", -1, REGCOLLATION, 0),
    TypeInfo::new(
        INT4MULTIRANGE,
        "int4multirange",
        -1,
        0,
        INT4MULTIRANGE_ARRAY,
    ),
    TypeInfo::new(NUMMULTIRANGE, "nummultirange", -1, 0, NUMMULTIRANGE_ARRAY),
    TypeInfo::new(TSMULTIRANGE, "tsmultirange", -1, 0, TSMULTIRANGE_ARRAY),
    TypeInfo::new(
        TSTZMULTIRANGE,
        "tstzmultirange",
        -1,
        0,
        TSTZMULTIRANGE_ARRAY,
    ),
    TypeInfo::new(
        DATEMULTIRANGE,
        "datemultirange",
        -1,
        0,
        DATEMULTIRANGE_ARRAY,
    ),
    TypeInfo::new(
        INT8MULTIRANGE,
        "int8multirange",
        -1,
        0,
        INT8MULTIRANGE_ARRAY,
    ),
    TypeInfo::new(ANYMULTIRANGE, "anymultirange", -1, 0, 0),
    TypeInfo::new(ANYCOMPATIBLEMULTIRANGE, "anycompatiblemultirange", -1, 0, 0),
    TypeInfo::new(PG_SNAPSHOT, "pg_snapshot", -1, 0, PG_SNAPSHOT_ARRAY),
    TypeInfo::new(PG_SNAPSHOT_ARRAY, "_pg_snapshot", -1, PG_SNAPSHOT, 0),
    TypeInfo::new(XID8, "xid8", 8, 0, XID8_ARRAY),
    TypeInfo::new(ANYCOMPATIBLE, "anycompatible", 4, 0, 0),
    TypeInfo::new(ANYCOMPATIBLEARRAY, "anycompatiblearray", -1, 0, 0),
    TypeInfo::new(ANYCOMPATIBLENONARRAY, "anycompatiblenonarray", 4, 0, 0),
    TypeInfo::new(ANYCOMPATIBLERANGE, "anycompatiblerange", -1, 0, 0),
    TypeInfo::new(
        INT4MULTIRANGE_ARRAY,
        "_int4multirange",
        -1,
        INT4MULTIRANGE,
        0,
    ),
    TypeInfo::new(NUMMULTIRANGE_ARRAY, "_nummultirange", -1, NUMMULTIRANGE, 0),
    TypeInfo::new(TSMULTIRANGE_ARRAY, "_tsmultirange", -1, TSMULTIRANGE, 0),
    TypeInfo::new(
        TSTZMULTIRANGE_ARRAY,
        "_tstzmultirange",
        -1,
        TSTZMULTIRANGE,
        0,
    ),
    TypeInfo::new(
        DATEMULTIRANGE_ARRAY,
        "_datemultirange",
        -1,
        DATEMULTIRANGE,
        0,
    ),
    TypeInfo::new(
        INT8MULTIRANGE_ARRAY,
        "_int8multirange",
        -1,
        INT8MULTIRANGE,
        0,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in BUILTIN.windows(2) {
            assert!(pair[0].oid < pair[1].oid, "{:?}", pair);
        }
    }

    #[test]
    fn arrays_point_back_to_their_elements() {
        for t in BUILTIN {
            if t.array != 0 {
                assert_eq!(element_of(t.array), Some(t.oid), "{}", t.name);
                assert_eq!(type_name(t.array), Some(&*format!("_{}", t.name)));
            }
            if t.element != 0 {
                assert_eq!(array_of(t.element), Some(t.oid), "{}", t.name);
            }
        }
    }

    /// The OIDs named in the design brief, checked against PostgreSQL 15.
    #[test]
    fn well_known_oids() {
        let expected: &[(Oid, &str, Oid)] = &[
            (16, "bool", 1000),
            (17, "bytea", 1001),
            (18, "char", 1002),
            (19, "name", 1003),
            (20, "int8", 1016),
            (21, "int2", 1005),
            (23, "int4", 1007),
            (25, "text", 1009),
            (26, "oid", 1028),
            (114, "json", 199),
            (142, "xml", 143),
            (650, "cidr", 651),
            (700, "float4", 1021),
            (701, "float8", 1022),
            (790, "money", 791),
            (829, "macaddr", 1040),
            (869, "inet", 1041),
            (1042, "bpchar", 1014),
            (1043, "varchar", 1015),
            (1082, "date", 1182),
            (1083, "time", 1183),
            (1114, "timestamp", 1115),
            (1184, "timestamptz", 1185),
            (1186, "interval", 1187),
            (1266, "timetz", 1270),
            (1560, "bit", 1561),
            (1562, "varbit", 1563),
            (1700, "numeric", 1231),
            (2249, "record", 2287),
            (2950, "uuid", 2951),
            (3802, "jsonb", 3807),
        ];
        for &(oid, name, array) in expected {
            assert_eq!(type_name(oid), Some(name));
            assert_eq!(oid_of(name), Some(oid));
            assert_eq!(array_of(oid), Some(array), "{name}");
            assert_eq!(element_of(array), Some(oid), "{name}");
        }
        assert_eq!(type_name(UNKNOWN), Some("unknown"));
        assert_eq!(type_name(VOID), Some("void"));
        assert_eq!(array_of(UNKNOWN), None);
        assert_eq!(array_of(VOID), None);
        assert_eq!(element_of(INT4), None);
        assert_eq!(element_of(NAME), None);
        assert_eq!(type_name(0), None);
        assert_eq!(type_name(999_999), None);
        assert_eq!(typlen(INT8), Some(8));
        assert_eq!(typlen(TEXT), Some(-1));
        assert_eq!(typlen(UNKNOWN), Some(-2));
        assert_eq!(typlen(TIMETZ), Some(12));
        assert_eq!(typlen(NAME), Some(64));
        assert!(is_array(TEXT_ARRAY));
        assert!(!is_array(TEXT));
    }
}
