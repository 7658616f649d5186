//! The property check's generator and comparison, shared by `tests/property.rs` (the CI
//! test) and `examples/property_vs_postgresql.rs` (long runs): random `SELECT`s from a
//! small PostgreSQL grammar run on PostgreSQL 15 and on pgproto-sqlite, over the same
//! schema and rows ([`SCHEMA`]). The rule it checks: the server never answers
//! differently without saying so.
//!
//! A case passes when both give the same column names and rows (as text, in order when
//! the statement orders by every output column), when pgproto-sqlite refuses with 0A000,
//! or when both fail (a different SQLSTATE is counted and printed, not failed). Anything
//! else fails, with the statement, both answers and the seed. Nothing is tolerated and
//! no class of expression is left out of the grammar.

// Each of the test and the example uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pgproto_tests::harness::{PgCluster, PgVersion};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::support;

/// The schema and rows, created on both servers.
const SCHEMA: &str = "
CREATE TABLE dept (id int4 PRIMARY KEY, name varchar(20) NOT NULL, budget numeric(10,2), region text);
CREATE TABLE emp (
  id int4 PRIMARY KEY, dept_id int4 REFERENCES dept(id), name text, nick varchar(10),
  salary numeric(10,2), bonus int8, age int4, active bool, hired date, seen timestamptz,
  token uuid);
INSERT INTO dept VALUES (1, 'Sales', 1000.50, 'north'), (2, 'R&D', NULL, 'South'),
  (3, 'sales', 250.25, NULL), (4, 'Ops', -10.00, 'north');
INSERT INTO emp VALUES
  (1, 1, 'alice', 'Al', 1200.00, 100, 30, true, '2020-01-15', '2024-03-01 10:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  (2, 1, 'Bob', 'bob', 950.50, NULL, 45, false, '2019-12-31', '2024-02-29 23:59:59+00', NULL),
  (3, 2, 'BOB', NULL, NULL, 9000000000000000000, 45, NULL, '2021-02-28', NULL, 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'),
  (4, 2, NULL, 'x_y', 0.00, -5, NULL, true, NULL, '2023-12-31 00:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  (5, NULL, '', '', -3.75, 0, 0, false, '2024-02-29', '2024-01-01 12:30:00+00', NULL),
  (6, 3, ' pad ', 'a%b', 12.35, 7, 2147483647, true, '2000-01-01', '1999-12-31 23:00:00+00', 'c2eebc99-9c0b-4ef8-bb6d-6bb9bd380a13'),
  (7, 3, 'alice', 'Al', 1200.00, 100, 30, true, '2020-01-15', '2024-03-01 10:00:00+00', NULL),
  (8, NULL, '100', '9', 99.99, -9000000000000000000, -7, NULL, '1999-03-01', NULL, NULL),
  (9, 4, 'Ünïcode', 'ß', 5.05, 3, 18, false, '2022-06-30', '2022-06-30 06:00:00+00', 'd3eebc99-9c0b-4ef8-bb6d-6bb9bd380a14');
";

/// A value type of the grammar.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Int,
    Big,
    Num,
    Text,
    Bool,
    Date,
    Ts,
    Uuid,
}

/// A column a generated expression may name: qualifier, name, type.
type Col = (&'static str, &'static str, Ty);

const DEPT: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("name", Ty::Text),
    ("budget", Ty::Num),
    ("region", Ty::Text),
];

const EMP: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("dept_id", Ty::Int),
    ("name", Ty::Text),
    ("nick", Ty::Text),
    ("salary", Ty::Num),
    ("bonus", Ty::Big),
    ("age", Ty::Int),
    ("active", Ty::Bool),
    ("hired", Ty::Date),
    ("seen", Ty::Ts),
    ("token", Ty::Uuid),
];

/// splitmix64: small, seedable, good enough to pick grammar productions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p` percent.
    fn chance(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What the expression being generated may use.
struct Scope {
    cols: Vec<Col>,
    /// Aggregates allowed (select list and HAVING of a grouped query).
    aggregates: bool,
    /// Grouped query: bare columns only if grouped by (we only allow `group` ones).
    group: Option<Vec<Col>>,
    /// Nesting of subqueries, to name their tables apart.
    level: usize,
}

struct Gen {
    rng: Rng,
}

impl Gen {
    fn column(&mut self, scope: &Scope, ty: Ty) -> Option<String> {
        let pool: Vec<&Col> = match &scope.group {
            Some(g) => g.iter().filter(|c| c.2 == ty).collect(),
            None => scope.cols.iter().filter(|c| c.2 == ty).collect(),
        };
        if pool.is_empty() {
            return None;
        }
        let c = self.rng.pick(&pool);
        Some(format!("{}.{}", c.0, c.1))
    }

    fn literal(&mut self, ty: Ty) -> String {
        let r = &mut self.rng;
        match ty {
            Ty::Int => (*r.pick(&[
                "0",
                "1",
                "2",
                "3",
                "-1",
                "7",
                "10",
                "-4",
                "100",
                "2147483647",
            ]))
            .to_string(),
            Ty::Big => (*r.pick(&[
                "0::int8",
                "5::int8",
                "-3::int8",
                "9223372036854775807",
                "10000000000",
            ]))
            .to_string(),
            Ty::Num => (*r.pick(&[
                "1.5", "2.25", "-0.125", "0.0", "10.00", "3.333", "0.005", "-2.5",
            ]))
            .to_string(),
            Ty::Text => (*r.pick(&[
                "'alice'", "'Bob'", "''", "'a'", "'%a%'", "'b%'", "'_o%'", "'100'", "'9'", "' x '",
                "'Sales'", "'north'", "'ab''c'",
            ]))
            .to_string(),
            Ty::Bool => (*r.pick(&["true", "false", "NULL::bool"])).to_string(),
            Ty::Date => (*r.pick(&[
                "DATE '2024-02-29'",
                "DATE '2020-01-15'",
                "'2023-12-31'::date",
                "DATE '1999-03-01'",
            ]))
            .to_string(),
            Ty::Ts => (*r.pick(&[
                "TIMESTAMPTZ '2024-03-01 10:00:00+00'",
                "'2000-01-01 00:00:00+00'::timestamptz",
            ]))
            .to_string(),
            Ty::Uuid => "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid".to_string(),
        }
    }

    /// A leaf: a column of the type (mostly) or a literal.
    fn leaf(&mut self, scope: &Scope, ty: Ty) -> String {
        if self.rng.chance(70) {
            if let Some(c) = self.column(scope, ty) {
                return c;
            }
        }
        if self.rng.chance(5) {
            return format!("NULL::{}", type_name(ty));
        }
        self.literal(ty)
    }

    fn expr(&mut self, scope: &Scope, ty: Ty, depth: usize) -> String {
        if depth == 0 || self.rng.chance(30) {
            return self.leaf(scope, ty);
        }
        let d = depth - 1;
        if scope.aggregates && self.rng.chance(25) {
            if let Some(a) = self.aggregate(scope, ty, d) {
                return a;
            }
        }
        // Forms common to all types.
        match self.rng.below(12) {
            0 => {
                return format!(
                    "CASE WHEN {} THEN {} ELSE {} END",
                    self.expr(scope, Ty::Bool, d),
                    self.expr(scope, ty, d),
                    self.expr(scope, ty, d)
                )
            }
            1 => {
                return format!(
                    "coalesce({}, {})",
                    self.expr(scope, ty, d),
                    self.expr(scope, ty, d)
                )
            }
            2 if ty != Ty::Bool => {
                return format!(
                    "nullif({}, {})",
                    self.expr(scope, ty, d),
                    self.expr(scope, ty, d)
                )
            }
            3 if matches!(ty, Ty::Int | Ty::Big | Ty::Num | Ty::Text) && scope.level < 2 => {
                return self.scalar_subquery(scope, ty, d);
            }
            _ => {}
        }
        match ty {
            Ty::Int | Ty::Big => self.integer(scope, ty, d),
            Ty::Num => self.numeric(scope, d),
            Ty::Text => self.text(scope, d),
            Ty::Bool => self.boolean(scope, d),
            Ty::Date => self.date(scope, d),
            Ty::Ts => match self.rng.below(3) {
                0 => format!(
                    "date_trunc('{}', {})",
                    self.rng.pick(&["day", "month", "hour", "year"]),
                    self.expr(scope, Ty::Ts, d)
                ),
                1 => format!("{}::timestamptz", self.expr(scope, Ty::Date, d)),
                _ => self.leaf(scope, ty),
            },
            Ty::Uuid => self.leaf(scope, ty),
        }
    }

    fn integer(&mut self, scope: &Scope, ty: Ty, d: usize) -> String {
        match self.rng.below(9) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*", "/", "%"]);
                format!(
                    "({} {op} {})",
                    self.expr(scope, ty, d),
                    self.expr(scope, ty, d)
                )
            }
            3 if ty == Ty::Int => format!("length({})", self.expr(scope, Ty::Text, d)),
            3 => format!("{}::int8", self.expr(scope, Ty::Int, d)),
            4 if ty == Ty::Int => format!(
                "position({} in {})",
                self.expr(scope, Ty::Text, d),
                self.expr(scope, Ty::Text, d)
            ),
            4 => format!(
                "({} * {})",
                self.expr(scope, Ty::Big, d),
                self.expr(scope, Ty::Int, d)
            ),
            5 => format!("abs({})", self.expr(scope, ty, d)),
            6 => format!("(-{})", self.expr(scope, ty, d)),
            7 => {
                let from = *self
                    .rng
                    .pick(&[Ty::Num, Ty::Text, Ty::Bool, Ty::Big, Ty::Int]);
                if from == Ty::Bool && ty == Ty::Big {
                    return self.leaf(scope, ty);
                }
                format!("{}::{}", self.expr(scope, from, d), type_name(ty))
            }
            _ if ty == Ty::Int => format!(
                "({} - {})",
                self.expr(scope, Ty::Date, d),
                self.expr(scope, Ty::Date, d)
            ),
            _ => self.leaf(scope, ty),
        }
    }

    fn numeric(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(7) {
            0 | 1 => {
                let op = self.rng.pick(&["+", "-", "*", "/"]);
                let other = *self.rng.pick(&[Ty::Num, Ty::Int, Ty::Num]);
                format!(
                    "({} {op} {})",
                    self.expr(scope, Ty::Num, d),
                    self.expr(scope, other, d)
                )
            }
            2 => format!(
                "round({}, {})",
                self.expr(scope, Ty::Num, d),
                self.rng.pick(&["0", "1", "2"])
            ),
            3 => format!("round({})", self.expr(scope, Ty::Num, d)),
            4 => {
                let from = *self.rng.pick(&[Ty::Int, Ty::Big, Ty::Text]);
                format!("{}::numeric", self.expr(scope, from, d))
            }
            5 => format!(
                "extract({} from {})",
                self.rng.pick(&["year", "month", "day", "dow"]),
                self.expr(scope, Ty::Date, d)
            ),
            _ => format!("abs({})", self.expr(scope, Ty::Num, d)),
        }
    }

    fn text(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(11) {
            0 => format!(
                "{}({})",
                self.rng.pick(&["upper", "lower"]),
                self.expr(scope, Ty::Text, d)
            ),
            1 => format!(
                "substr({}, {}, {})",
                self.expr(scope, Ty::Text, d),
                self.expr(scope, Ty::Int, d),
                self.rng.pick(&["1", "2", "3", "0"])
            ),
            2 => format!(
                "substring({} from {} for {})",
                self.expr(scope, Ty::Text, d),
                self.rng.pick(&["1", "2", "0", "-1"]),
                self.rng.pick(&["1", "2", "5"])
            ),
            3 => format!(
                "({} || {})",
                self.expr(scope, Ty::Text, d),
                self.expr(scope, Ty::Text, d)
            ),
            4 => format!(
                "replace({}, {}, {})",
                self.expr(scope, Ty::Text, d),
                self.rng.pick(&["'a'", "'B'", "' '"]),
                self.rng.pick(&["'z'", "''", "'--'"])
            ),
            5 => format!(
                "trim({}{})",
                self.rng.pick(&[
                    "",
                    "both ' ' from ",
                    "leading 'a' from ",
                    "trailing ' ' from "
                ]),
                self.expr(scope, Ty::Text, d)
            ),
            6 => {
                let from = *self.rng.pick(&[
                    Ty::Int,
                    Ty::Big,
                    Ty::Num,
                    Ty::Bool,
                    Ty::Date,
                    Ty::Uuid,
                    Ty::Ts,
                ]);
                format!("{}::text", self.expr(scope, from, d))
            }
            7 => format!(
                "({} || {})",
                self.expr(scope, Ty::Text, d),
                self.expr(scope, Ty::Int, d)
            ),
            _ => self.leaf(scope, Ty::Text),
        }
    }

    fn boolean(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(14) {
            0..=2 => {
                let ty = *self.rng.pick(&[
                    Ty::Int,
                    Ty::Big,
                    Ty::Num,
                    Ty::Text,
                    Ty::Date,
                    Ty::Int,
                    Ty::Bool,
                    Ty::Ts,
                    Ty::Uuid,
                ]);
                let op = self.rng.pick(&["=", "<>", "<", "<=", ">", ">="]);
                // Mixed integer/numeric comparisons too.
                let rty = match ty {
                    Ty::Int | Ty::Big | Ty::Num => *self.rng.pick(&[ty, ty, Ty::Num, Ty::Int]),
                    _ => ty,
                };
                format!(
                    "({} {op} {})",
                    self.expr(scope, ty, d),
                    self.expr(scope, rty, d)
                )
            }
            3 => format!(
                "({} {} {})",
                self.expr(scope, Ty::Bool, d),
                self.rng.pick(&["AND", "OR"]),
                self.expr(scope, Ty::Bool, d)
            ),
            4 => format!("(NOT {})", self.expr(scope, Ty::Bool, d)),
            5 => {
                let ty = *self
                    .rng
                    .pick(&[Ty::Int, Ty::Text, Ty::Num, Ty::Bool, Ty::Date]);
                format!(
                    "({} IS {}NULL)",
                    self.expr(scope, ty, d),
                    if self.rng.chance(50) { "NOT " } else { "" }
                )
            }
            6 => format!(
                "({} {}{} {})",
                self.expr(scope, Ty::Text, d),
                if self.rng.chance(30) { "NOT " } else { "" },
                self.rng.pick(&["LIKE", "ILIKE"]),
                self.rng
                    .pick(&["'a%'", "'%b%'", "'_o_'", "'%'", "'A%'", "'%\\_%'", "''", "'%e'"])
            ),
            7 => {
                let ty = *self.rng.pick(&[Ty::Int, Ty::Text, Ty::Num]);
                let n = 1 + self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.expr(scope, ty, 0)).collect();
                format!(
                    "({} {}IN ({}))",
                    self.expr(scope, ty, d),
                    if self.rng.chance(30) { "NOT " } else { "" },
                    items.join(", ")
                )
            }
            8 => {
                let ty = *self.rng.pick(&[Ty::Int, Ty::Num, Ty::Date, Ty::Text]);
                format!(
                    "({} {}BETWEEN {} AND {})",
                    self.expr(scope, ty, d),
                    if self.rng.chance(30) { "NOT " } else { "" },
                    self.expr(scope, ty, 0),
                    self.expr(scope, ty, 0)
                )
            }
            9 if scope.level < 2 => self.exists_or_in(scope, d),
            10 => {
                let from = *self.rng.pick(&[Ty::Int, Ty::Text]);
                format!("{}::bool", self.expr(scope, from, d))
            }
            11 => {
                let ty = *self.rng.pick(&[Ty::Int, Ty::Text, Ty::Bool]);
                format!(
                    "({} IS {}DISTINCT FROM {})",
                    self.expr(scope, ty, d),
                    if self.rng.chance(50) { "NOT " } else { "" },
                    self.expr(scope, ty, d)
                )
            }
            _ => self.leaf(scope, Ty::Bool),
        }
    }

    fn date(&mut self, scope: &Scope, d: usize) -> String {
        match self.rng.below(5) {
            0 => format!(
                "({} {} {})",
                self.expr(scope, Ty::Date, d),
                self.rng.pick(&["+", "-"]),
                self.expr(scope, Ty::Int, d)
            ),
            1 => format!(
                "date_trunc('{}', {})::date",
                self.rng.pick(&["month", "year", "day"]),
                self.expr(scope, Ty::Date, d)
            ),
            2 => format!("{}::date", self.expr(scope, Ty::Ts, d)),
            _ => self.leaf(scope, Ty::Date),
        }
    }

    fn aggregate(&mut self, scope: &Scope, ty: Ty, d: usize) -> Option<String> {
        // Aggregate arguments are plain row expressions.
        let inner = Scope {
            cols: scope.cols.clone(),
            aggregates: false,
            group: None,
            level: scope.level,
        };
        Some(match ty {
            Ty::Big => match self.rng.below(4) {
                0 => "count(*)".to_string(),
                1 => {
                    let t = *self.rng.pick(&[Ty::Int, Ty::Text, Ty::Num, Ty::Bool]);
                    format!("count({})", self.expr(&inner, t, d))
                }
                2 => {
                    let t = *self.rng.pick(&[Ty::Int, Ty::Text]);
                    format!("count(DISTINCT {})", self.expr(&inner, t, d))
                }
                _ => format!("sum({})", self.expr(&inner, Ty::Int, d)),
            },
            Ty::Num => match self.rng.below(3) {
                0 => format!("sum({})", self.expr(&inner, Ty::Num, d)),
                1 => {
                    let t = *self.rng.pick(&[Ty::Int, Ty::Num, Ty::Big]);
                    format!("avg({})", self.expr(&inner, t, d))
                }
                _ => format!("sum({})", self.expr(&inner, Ty::Big, d)),
            },
            Ty::Int | Ty::Text | Ty::Date | Ty::Bool => {
                if ty == Ty::Bool {
                    return None;
                }
                format!(
                    "{}({})",
                    self.rng.pick(&["min", "max"]),
                    self.expr(&inner, ty, d)
                )
            }
            _ => return None,
        })
    }

    /// A FROM item for a subquery at `level`, with its columns.
    fn sub_table(&mut self, level: usize) -> (String, Vec<Col>) {
        let (table, cols, alias): (&str, &[(&str, Ty)], &'static str) =
            match (self.rng.chance(60), level) {
                (true, 0) => ("emp", EMP, "s1"),
                (true, _) => ("emp", EMP, "s2"),
                (false, 0) => ("dept", DEPT, "t1"),
                (false, _) => ("dept", DEPT, "t2"),
            };
        (
            format!("{table} {alias}"),
            cols.iter().map(|(n, t)| (alias, *n, *t)).collect(),
        )
    }

    /// Scope of a subquery: its own table plus the outer columns (correlation).
    fn sub_scope(&mut self, outer: &Scope) -> (String, Scope) {
        let (from, mut cols) = self.sub_table(outer.level);
        let mut all = outer.group.clone().unwrap_or_else(|| outer.cols.clone());
        all.append(&mut cols);
        (
            from,
            Scope {
                cols: all,
                aggregates: false,
                group: None,
                level: outer.level + 1,
            },
        )
    }

    fn scalar_subquery(&mut self, outer: &Scope, ty: Ty, d: usize) -> String {
        let (from, mut scope) = self.sub_scope(outer);
        let where_ = self.expr(&scope, Ty::Bool, d.min(2));
        // The aggregate's argument may name the outer query's columns too: when it names
        // only those, PostgreSQL makes it the outer query's aggregate.
        scope.aggregates = true;
        let agg_ty = match ty {
            Ty::Int => Ty::Int,
            Ty::Big => Ty::Big,
            Ty::Num => Ty::Num,
            _ => Ty::Text,
        };
        let value = self
            .aggregate(&scope, agg_ty, d.min(2))
            .unwrap_or_else(|| "count(*)".to_string());
        let value = if agg_ty == ty {
            value
        } else {
            format!("({value})::{}", type_name(ty))
        };
        format!("(SELECT {value} FROM {from} WHERE {where_})")
    }

    fn exists_or_in(&mut self, outer: &Scope, d: usize) -> String {
        let (from, scope) = self.sub_scope(outer);
        let where_ = self.expr(&scope, Ty::Bool, d.min(2));
        if self.rng.chance(50) {
            format!(
                "({}EXISTS (SELECT 1 FROM {from} WHERE {where_}))",
                if self.rng.chance(30) { "NOT " } else { "" }
            )
        } else {
            let ty = *self.rng.pick(&[Ty::Int, Ty::Text]);
            let inner = self.expr(&scope, ty, 1);
            format!(
                "({} {}IN (SELECT {inner} FROM {from} WHERE {where_}))",
                self.expr(outer, ty, d),
                if self.rng.chance(30) { "NOT " } else { "" }
            )
        }
    }

    /// One statement, and whether its rows come in a determined order.
    fn statement(&mut self) -> (String, bool) {
        let any_ty = [
            Ty::Int,
            Ty::Big,
            Ty::Num,
            Ty::Text,
            Ty::Bool,
            Ty::Date,
            Ty::Int,
            Ty::Text,
            Ty::Ts,
            Ty::Uuid,
        ];
        let kind = self.rng.below(10);
        if kind == 0 {
            // No FROM: expressions over literals.
            let scope = Scope {
                cols: vec![],
                aggregates: false,
                group: None,
                level: 0,
            };
            let n = 1 + self.rng.below(3);
            let items: Vec<String> = (0..n)
                .map(|i| {
                    let ty = *self.rng.pick(&any_ty);
                    format!("{} AS c{i}", self.expr(&scope, ty, 3))
                })
                .collect();
            return (format!("SELECT {}", items.join(", ")), true);
        }
        let mut cols: Vec<Col> = EMP.iter().map(|(n, t)| ("e", *n, *t)).collect();
        let mut from = "emp e".to_string();
        match self.rng.below(4) {
            0 => {
                from.push_str(" JOIN dept d ON e.dept_id = d.id");
                cols.extend(DEPT.iter().map(|(n, t)| ("d", *n, *t)));
            }
            1 => {
                from.push_str(" LEFT JOIN dept d ON e.dept_id = d.id");
                cols.extend(DEPT.iter().map(|(n, t)| ("d", *n, *t)));
            }
            _ => {}
        }
        let grouped = kind >= 7;
        let mut scope = Scope {
            cols,
            aggregates: false,
            group: None,
            level: 0,
        };
        let where_ = if self.rng.chance(60) {
            format!(" WHERE {}", self.expr(&scope, Ty::Bool, 3))
        } else {
            String::new()
        };
        let mut items = Vec::new();
        let mut group_by = String::new();
        let mut having = String::new();
        if grouped {
            let n = self.rng.below(3);
            let mut keys: Vec<Col> = Vec::new();
            for _ in 0..n {
                let c = *self.rng.pick(&scope.cols);
                if !keys.contains(&c) {
                    keys.push(c);
                }
            }
            if !keys.is_empty() {
                group_by = format!(
                    " GROUP BY {}",
                    keys.iter()
                        .map(|c| format!("{}.{}", c.0, c.1))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for c in &keys {
                items.push(format!("{}.{}", c.0, c.1));
            }
            scope.group = Some(keys);
            scope.aggregates = true;
            let n = 1 + self.rng.below(3);
            for _ in 0..n {
                let ty = *self
                    .rng
                    .pick(&[Ty::Big, Ty::Num, Ty::Int, Ty::Text, Ty::Date]);
                let e = self
                    .aggregate(&scope, ty, 2)
                    .unwrap_or_else(|| "count(*)".to_string());
                items.push(e);
            }
            if self.rng.chance(40) {
                let e = self
                    .aggregate(&scope, Ty::Big, 1)
                    .unwrap_or_else(|| "count(*)".to_string());
                having = format!(
                    " HAVING {e} {} {}",
                    self.rng.pick(&[">", ">=", "=", "<"]),
                    self.rng.pick(&["0", "1", "2"])
                );
            }
        } else {
            let n = 1 + self.rng.below(4);
            for _ in 0..n {
                if self.rng.chance(35) {
                    let c = *self.rng.pick(&scope.cols);
                    items.push(format!("{}.{}", c.0, c.1));
                } else {
                    let ty = *self.rng.pick(&any_ty);
                    items.push(self.expr(&scope, ty, 3));
                }
            }
        }
        let named: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, e)| {
                // Bare columns keep their own name; expressions mostly get an alias.
                if e.split('.').count() == 2 && !e.contains('(') && !e.contains(' ') {
                    e.clone()
                } else if self.rng.chance(80) {
                    format!("{e} AS c{i}")
                } else {
                    e.clone()
                }
            })
            .collect();
        let distinct = if !grouped && self.rng.chance(20) {
            "DISTINCT "
        } else {
            ""
        };
        let mut sql = format!(
            "SELECT {distinct}{} FROM {from}{where_}{group_by}{having}",
            named.join(", ")
        );
        let mut ordered = false;
        if self.rng.chance(50) {
            // ORDER BY every output column, so that the order is determined.
            let keys: Vec<String> = (1..=items.len())
                .map(|i| {
                    format!(
                        "{i}{}{}",
                        self.rng.pick(&["", " ASC", " DESC"]),
                        self.rng.pick(&["", "", " NULLS FIRST", " NULLS LAST"])
                    )
                })
                .collect();
            write!(sql, " ORDER BY {}", keys.join(", ")).unwrap();
            ordered = true;
            if self.rng.chance(50) {
                write!(sql, " LIMIT {}", self.rng.pick(&["1", "3", "5", "100"])).unwrap();
                if self.rng.chance(50) {
                    write!(sql, " OFFSET {}", self.rng.pick(&["0", "1", "4"])).unwrap();
                }
            }
        }
        (sql, ordered)
    }
}

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Int => "int",
        Ty::Big => "int8",
        Ty::Num => "numeric",
        Ty::Text => "text",
        Ty::Bool => "bool",
        Ty::Date => "date",
        Ty::Ts => "timestamptz",
        Ty::Uuid => "uuid",
    }
}

/// A statement's answer: column names and rows as text, or the SQLSTATE and message.
type Answer = Result<(Vec<String>, Vec<Vec<String>>), (String, String)>;

async fn answer(c: &Client, sql: &str) -> Answer {
    let messages = c.simple_query(sql).await.map_err(|e| {
        e.as_db_error()
            .map_or(("?????".to_string(), e.to_string()), |d| {
                (d.code().code().to_string(), d.message().to_string())
            })
    })?;
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for m in &messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                names = cols.iter().map(|c| c.name().to_string()).collect();
            }
            SimpleQueryMessage::Row(r) => {
                if names.is_empty() {
                    names = r.columns().iter().map(|c| c.name().to_string()).collect();
                }
                rows.push(
                    (0..r.len())
                        .map(|i| r.get(i).map_or("NULL".to_string(), |v| format!("'{v}'")))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok((names, rows))
}

async fn client(conninfo: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(conninfo, NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn show(a: &Answer) -> String {
    match a {
        Ok((names, rows)) => {
            let mut s = format!("columns {names:?}, {} rows", rows.len());
            for r in rows.iter().take(12) {
                write!(s, "\n    {}", r.join(" | ")).unwrap();
            }
            s
        }
        Err((code, msg)) => format!("ERROR {code}: {msg}"),
    }
}

/// PostgreSQL 15 and pgproto-sqlite (in memory), each with [`SCHEMA`] and a client.
pub(crate) struct Servers {
    pub(crate) pg: Client,
    pub(crate) ours: Client,
    _cluster: PgCluster,
    _served: support::Served,
}

impl Servers {
    /// Starts both servers and creates the schema and rows on each.
    pub(crate) async fn start() -> Self {
        let cluster = PgCluster::builder()
            .version(PgVersion::V15)
            .start()
            .expect("PostgreSQL 15 (apt-get install postgresql-15)");
        let pg = client(&cluster.superuser_conninfo("")).await;
        let served = support::serve_memory().await;
        let ours = client(&format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
            served.port
        ))
        .await;
        for c in [&pg, &ours] {
            c.batch_execute(SCHEMA).await.unwrap();
            c.batch_execute("SET statement_timeout = 10000")
                .await
                .unwrap();
        }
        Self {
            pg,
            ours,
            _cluster: cluster,
            _served: served,
        }
    }
}

/// What one seed's statements came to.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) cases: u64,
    pub(crate) identical: u64,
    pub(crate) refused: u64,
    pub(crate) both_error: u64,
    /// Both failed, with different SQLSTATEs (counted in `both_error` too).
    pub(crate) code_differs: u64,
    /// Each failure: the statement, both answers and the seed.
    pub(crate) failures: Vec<String>,
    /// What was refused (the 0A000 message without the values it names), how often.
    pub(crate) refusals: BTreeMap<String, u64>,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cases {}, identical {}, refused (0A000) {}, both-error {} (SQLSTATE differs {}), \
             fail {}",
            self.cases,
            self.identical,
            self.refused,
            self.both_error,
            self.code_differs,
            self.failures.len()
        )
    }
}

/// Runs `cases` statements of `seed` on both servers and compares their answers.
pub(crate) async fn run_seed(servers: &Servers, seed: u64, cases: u64) -> Counts {
    let mut gen = Gen { rng: Rng(seed) };
    let mut counts = Counts {
        cases,
        ..Counts::default()
    };
    for case in 0..cases {
        let (sql, ordered) = gen.statement();
        let want = answer(&servers.pg, &sql).await;
        let got = answer(&servers.ours, &sql).await;
        let same = match (&want, &got) {
            (Ok((wn, wr)), Ok((gn, gr))) => {
                let (mut wr, mut gr) = (wr.clone(), gr.clone());
                if !ordered {
                    wr.sort();
                    gr.sort();
                }
                wn == gn && wr == gr
            }
            _ => false,
        };
        match (&want, &got) {
            _ if same => counts.identical += 1,
            (_, Err((code, message))) if code == "0A000" => {
                counts.refused += 1;
                let what = message
                    .split(" whose ")
                    .next()
                    .unwrap_or(message)
                    .split(['\'', '('])
                    .next()
                    .unwrap_or(message)
                    .trim()
                    .to_string();
                *counts.refusals.entry(what).or_default() += 1;
            }
            (Err((a, _)), Err((b, _))) => {
                counts.both_error += 1;
                if a != b {
                    counts.code_differs += 1;
                    println!("SQLSTATE differs (PostgreSQL {a}, pgproto-sqlite {b}): {sql}");
                }
            }
            _ => {
                let class = match (&want, &got) {
                    (Ok(_), Ok(_)) => "different rows".to_string(),
                    (Err(_), Ok(_)) => "rows where PostgreSQL fails".to_string(),
                    (_, Err((code, _))) => format!("error {code} where PostgreSQL answers"),
                };
                counts.failures.push(format!(
                    "[{class}] case {case} (seed {seed}): {sql}\n  PostgreSQL 15: {}\n  \
                     pgproto-sqlite: {}",
                    show(&want),
                    show(&got)
                ))
            }
        }
    }
    counts
}

/// `PGPROTO_PROPERTY_CASES` as a number of statements per seed, else `default`.
pub(crate) fn cases_per_seed(default: u64) -> u64 {
    std::env::var("PGPROTO_PROPERTY_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Prints what was refused, most often first.
pub(crate) fn print_refusals(refusals: &BTreeMap<String, u64>) {
    let mut by_count: Vec<_> = refusals.iter().collect();
    by_count.sort_by_key(|c| std::cmp::Reverse(*c.1));
    println!("refused (0A000), by what:");
    for (what, n) in by_count {
        println!("  {n:5} {what}");
    }
}
