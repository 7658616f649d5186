//! A PostgreSQL-compatible server over an embedded SQLite database, on pgproto's tokio
//! server framework: both query protocols, `$n` parameters, text and binary results,
//! transactions with PostgreSQL's status reporting, errors with SQLSTATEs, COPY in and
//! out. The `pgproto-sqlite` program serves a [`Database`] with the options of [`Args`];
//! a program of one's own does the same with [`Database::session`] as the handler
//! factory:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use pgproto_core::server::{AuthKind, ServerAuth};
//! use pgproto_tokio::server::{serve, ServerOptions};
//!
//! let db = pgproto_sqlite::Database::open(Some("app.db"))?;
//! let options = ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"mock secret"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5433").await?;
//! serve(listener, options, move |startup| db.session(startup)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! * **Concurrency like a server.** A database file is put in WAL mode and each session
//!   gets a SQLite connection of its own (opened at its first statement, with its own
//!   prepared-statement cache and its own `pg_catalog` temporary tables). Readers run in
//!   parallel with each other and with the writer: each statement outside a block reads
//!   one consistent snapshot, and a transaction block keeps the snapshot of its first
//!   read to its end (PostgreSQL's REPEATABLE READ/SERIALIZABLE; the server reports
//!   `serializable`). Writers take the *right to write*, a fair (first come, first
//!   served) async lock held for a statement, or from a block's first write to its end:
//!   one writer at a time, in line. A statement counts as a write unless it is a
//!   `SELECT`/`VALUES`/`WITH`/`EXPLAIN` naming no writing keyword or sequence function
//!   (or is transaction control, `SET`, `SHOW`). The wait is bounded by the session's
//!   `lock_timeout` (then 55P03) or `statement_timeout` (then 57014), whichever is
//!   shorter, and by the server's [`LOCK_TIMEOUT`] (`SQLITE_SERVER_LOCK_TIMEOUT_MS`) when
//!   both are 0. `statement_timeout` also stops a running statement (57014, through
//!   SQLite's progress handler). A block that read a snapshot and then writes after
//!   another session committed fails with 40001, as PostgreSQL's REPEATABLE READ does;
//!   SQLite's own busy errors (its busy timeout is the backstop behind the queue) are
//!   reported as 55P03, never as SQLite's text. Commits are written to the WAL without
//!   an fsync (`synchronous = NORMAL`): they survive a crash of the server, not
//!   necessarily of the machine. A commit never checkpoints by itself: it notes the WAL's
//!   length, and one that left it past 1000 pages is followed by a `PASSIVE` checkpoint
//!   off the workers, before the right to write is given back (the `checkpoint` module). SQLite work
//!   runs off the async runtime's workers (`block_in_place` on a multi-thread runtime;
//!   inline on a current-thread one), except a session's statements while its last one
//!   took under [`FAST_STATEMENT`] (see [`SqliteThreads`]: moving a point query or a
//!   one-row write off the worker costs more than the statement); a query naming
//!   `pg_sleep` always runs off the workers.
//!   Parse only prepares, so it never waits. A session that disconnects inside a
//!   transaction has it rolled back.
//! * **Databases** (the `databases` module): the main database (the file, or the
//!   in-memory one) is `postgres`; `CREATE DATABASE name` makes another SQLite file
//!   beside it, `<dir>/<stem>.databases/<name>.db` (bytes of the name other than
//!   `a-z0-9_-` written `%XX`), or in memory another in-memory database that lives until
//!   the server stops. Each database has its own writers' queue, sequences and sessions.
//!   A client connects to `postgres` or a created database by name (`dbname`), or to
//!   its user's name (clients' default) when no database has it: the main database,
//!   which the session then sees under that name (`current_database()`,
//!   `pg_database`). Any other name is refused after authentication with FATAL 3D000, `template0` with
//!   55000, `template1` (listed, but no database stands behind it) with 0A000.
//!   `CREATE DATABASE` accepts the options whose value is what the server has
//!   (`OWNER` the connected user, `TEMPLATE template0/template1`, `ENCODING 'UTF8'`,
//!   locales `C`/`C.UTF-8`, provider libc, `STRATEGY`, `CONNECTION LIMIT -1`...) and
//!   refuses the others with 0A000 (copying another database as `TEMPLATE` too).
//!   `DROP DATABASE [IF EXISTS] name [WITH (FORCE)]` answers as PostgreSQL (3D000,
//!   55006 while other sessions are connected after waiting 5 s for them, or for the
//!   current database, 42809 for a template, 25001 in a transaction block); `FORCE`
//!   with sessions connected and dropping `postgres` are refused with 0A000.
//! * **In memory** (`--memory`, [`Database::open`] with `None`) there is one SQLite
//!   connection, shared by every session: the right to write is then the right to
//!   execute anything, one statement or transaction block at a time, with the same
//!   timeouts.
//! * **Transaction status** follows PostgreSQL: `I`, `T`, or `E` after an error inside a
//!   block, where everything but `ROLLBACK`/`COMMIT` (which then rolls back) and
//!   `ROLLBACK TO SAVEPOINT` fails with 25P02. The statements of a multi-statement simple
//!   query run in one implicit transaction, as in PostgreSQL, unless they contain
//!   transaction control. Each extended-protocol Execute outside a block commits on its own.
//! * **Types**: a result column is described by its declared type (see
//!   `types::oid_for_decl`: PostgreSQL's names, so `INTEGER` is int4 and `BIGINT` int8);
//!   an expression by a guess from its text (`count(*)` int8, `x::type` casts, literals,
//!   comparisons...), else text; values are then always converted to the described type.
//!   In a simple query, undeclared columns without a guess take their values' type when
//!   all agree, else text. Parameters take the client's types, else a `$n::type` cast,
//!   else the type of the column they are compared with, computed with or inserted into
//!   (as declared: a `varchar(n)` column's parameter is varchar),
//!   else text (SQLite's affinity then converts). Binary parameters are decoded per OID.
//! * **Never a silently wrong answer**: what SQLite would answer differently from
//!   PostgreSQL fails with SQLSTATE 0A000 naming what is unsupported.
//! * **SQL**: SQLite's dialect, plus `x::type` casts, `serial` primary keys, `$$dollar$$` strings,
//!   `SET`/`SHOW`/`RESET`, `DISCARD`, PostgreSQL transaction syntax, `E'...'` strings,
//!   PostgreSQL's `LIKE` (case-sensitive, `\` escapes; SQLite's ignores case) and
//!   `ILIKE`, PostgreSQL's NULL order (`ORDER BY` keys without `NULLS FIRST/LAST` of a
//!   query sort NULL as the largest value; not yet inside aggregates or windows), 22012
//!   for a zero divisor of `/` and `%` (SQLite's NULL), casts to `bool` read as
//!   PostgreSQL reads text (`'yes'`, `'of'`; `'abc'` fails with 22P02), `DEFAULT f()` without parentheses, and `version()`, `current_database()`,
//!   `current_schema()`, `current_user`, `current_setting(name)`, `now()` (the start of
//!   the statement, or of the transaction block it is in, as PostgreSQL's; arithmetic
//!   between two readings of the clock, `now() - now()`, is still refused, since
//!   SQLite's `CURRENT_TIMESTAMP` follows its own clock), `clock_timestamp()` (the
//!   time of the call), `statement_timestamp()`, `transaction_timestamp()` and
//!   `gen_random_uuid()`, `pg_sleep(seconds)` (void; stopped by `statement_timeout`
//!   with 57014), `DEFAULT` items in `INSERT ... VALUES` (replaced by the
//!   column's default expression), and `ALTER TABLE` with several actions (run as one,
//!   all or none), `RENAME a TO b` and `ADD [CONSTRAINT n] PRIMARY KEY/UNIQUE/FOREIGN
//!   KEY/CHECK` (the `altertable` module: the constraint is added to the table's `CREATE
//!   TABLE` text and the existing rows are checked, 23505/23502/23503/23514; a key's
//!   index is built and then made the constraint's, `sqlite_autoindex_t_N`; a unique
//!   constraint on the columns of another stays a unique index of its name),
//!   `DROP CONSTRAINT [IF EXISTS] n [CASCADE]` (taken out of that text, a key's index
//!   dropped; 42704, and 2BP01 for a key a foreign key needs, which `CASCADE` drops;
//!   refused with 0A000 for an `INTEGER PRIMARY KEY`, SQLite's rowid), `RENAME
//!   CONSTRAINT a TO b` and `ALTER INDEX a RENAME TO b` (an index not a constraint's is
//!   made again under its new name),
//!   `ALTER COLUMN c DROP/SET NOT NULL`, `DROP/SET DEFAULT` and `TYPE t` between types
//!   stored alike (text and `varchar(n)`; `smallint`, `integer`, `bigint`), by
//!   rewriting the column's definition in that text after checking the rows (23502,
//!   22001, 22003), and `DROP COLUMN c [CASCADE | RESTRICT]` (the column's indexes go
//!   with it; another table's foreign key to it: 2BP01, or 0A000 under `CASCADE`).
//!   `ALTER COLUMN ... TYPE ... USING` and other type changes, `ALTER COLUMN ... ADD/DROP
//!   IDENTITY` and other `ALTER TABLE` actions SQLite lacks are refused with 0A000.
//!   `SET CONSTRAINTS ALL IMMEDIATE` checks the foreign keys then and after each later
//!   statement of the block; `ALL DEFERRED` returns to SQLite's checks at commit (0A000
//!   when a foreign key is `DEFERRABLE INITIALLY IMMEDIATE`, which SQLite cannot defer
//!   alone; naming constraints: 0A000). `CREATE INDEX ... (c varchar_pattern_ops)`
//!   (and `text_`/`bpchar_pattern_ops`): SQLite's indexes compare by code point, as
//!   these operator classes do; the class is kept for `pg_get_indexdef` (the `indexes`
//!   module), others are refused with 0A000. `FROM UNNEST(array, ...)` of array
//!   literals or text parameters (Django's bulk inserts) reads them as JSON arrays
//!   (the `unnest` module), and `unnest(a, ...) [WITH ORDINALITY] [AS t(x, ...)]` beside
//!   the `FROM` items it reads (PostgreSQL's implicit LATERAL; Django's `inspectdb`
//!   reads indexes so) or of several arrays becomes SQLite's table-valued `json_each`
//!   over the subscripts of the longest array (the shorter padded with NULL), each
//!   reference to its columns the element or position; there, an unqualified name that
//!   `json_each`'s own columns (`key`, `value`, `id`, `type`...) could capture, or one
//!   of its columns named inside a subquery, is refused with 0A000 (qualify it).
//!   A query is first parsed with `sqlparser` (PostgreSQL dialect) and its syntax tree
//!   rewritten where SQLite lacks the syntax (the `pgsql` module: `pg_catalog.`
//!   qualifiers, `::regclass` and kin, `OPERATOR(pg_catalog.~)` and `~ ~* !~ !~*`,
//!   `= ANY(ARRAY[...])` and `= ANY(subquery)`, `COLLATE pg_catalog.default`,
//!   `ARRAY(subquery)` (an array of its column's type), `a[i]`,
//!   `pg_catalog.pg_class.relname` and `information_schema.columns.column_name`,
//!   `[LEFT] JOIN [LATERAL] unnest(a) [WITH ORDINALITY] AS u(x, n)` (a join to
//!   `json_each`, which reads the tables before it), `$1::regclass`, `to_regtype`/`to_regclass`,
//!   `trim(both 'x' from s)`, and in the `builtins` module `a ^ b`, `SIMILAR TO`,
//!   `ARRAY[...]` of literals (the array's text, typed `int4[]`...), `->`/`->>` on
//!   values cast to json/jsonb, `json[b]_build_object`/`_array` (written as PostgreSQL
//!   writes json and jsonb, both read by the one strict JSON parser of the `jsonb`
//!   module), in the `tojson` module `json_agg`/`jsonb_agg(x [ORDER BY
//!   ...])`, `json_object_agg`/`jsonb_object_agg`, `row_to_json` of a `FROM`
//!   subquery's row and `to_json`/`to_jsonb` (each value written after its type: a
//!   cast's, a literal's, a table column's declared type read when the statement runs, a
//!   subquery column's expression), in the `jsonfuncs` module jsonb's `?`, `?|`, `?&`, `@>`, `<@`, `#>`,
//!   `#>>`, `jsonb_set`, `json[b]_array_length`, `json[b]_typeof`, `jsonb_strip_nulls`,
//!   the array operators `@>`, `<@`, `&&`, and `json[b]_each[_text]`,
//!   `json[b]_array_elements[_text]`, `json[b]_object_keys` in `FROM` (SQLite's
//!   `json_each` beside the items they read, as the `unnest` module's form; the
//!   one-column ones also once in a select list without aggregates),
//!   in the `arrays` module `string_to_array`, `cardinality`, `array_position`,
//!   `array_append`/`array_prepend`/`array_cat`/`array_remove` (one-dimensional arrays;
//!   others 0A000), in the `extras` module `encode`/`decode` (`hex`, `base64`,
//!   `escape`), `sha256`/`sha512`, `quote_literal`/`quote_nullable`, `make_date`,
//!   `bit_and`/`bit_or`, and a literal cast to bytea read as bytea input
//!   (`'\x00ff'::bytea` is two bytes; a text column cast to bytea still gives its
//!   text's bytes), `pg_typeof` of a literal or a cast, `SELECT DISTINCT ON
//!   (k)` (the first row of each `k` by `row_number()`); an unnamed select item a
//!   rewrite changed keeps PostgreSQL's column name (`string_agg`, `position`,
//!   `btrim` for `trim(...)`, `?column?`); `information_schema.x` as the
//!   `pg_is_x` view, parentheses around plain `SELECT` operands of `UNION`; and, in
//!   the `select_list` module, the set-returning `unnest()`, `generate_subscripts()`
//!   and `information_schema._pg_expandarray()` in a select list as a join over the
//!   subscripts, in lockstep as in PostgreSQL (an `ARRAY[...]` of literals' elements
//!   typed as its elements), and one `generate_series(a, b [, step])` in a select list
//!   without `FROM` as the query's `FROM` item (with a `FROM`, several, or inside an
//!   expression: 0A000), `array_agg`, `bool_and`/`bool_or`, and
//!   the types of a subquery's columns);
//!   rewritten statements are cached by their text.
//! * **Functions** (the `functions` module): PostgreSQL's string functions SQLite lacks
//!   (`left`, `right`, `initcap`, `md5`, `concat`, `concat_ws`, `split_part`,
//!   `lpad`/`rpad`, `repeat`, `reverse`, `strpos`, `btrim`, `starts_with`,
//!   `regexp_replace` with flags `g`/`i`, `to_hex`, `chr`, `ascii`), `upper`, `lower`
//!   and `initcap` of any letter (one character for one, as glibc's `C.UTF-8`, the
//!   server's `lc_ctype`, maps them: `upper('straße')` is `STRAßE`; SQLite's change
//!   ASCII letters only), `trunc`, `ceil`,
//!   `floor`, `sqrt`, `mod`, `power` and `greatest`/`least` (NULLs ignored), registered
//!   on each connection and answering as PostgreSQL's (their
//!   SQLSTATEs too). Window functions and filtered aggregates are named and typed after
//!   their function (`row_number` int8).
//! * **`pg_catalog`, live** (the `catalog` module): temporary tables filled from SQLite's
//!   schema whenever it changed, with stable OIDs, enough for psql's `\dt`, `\d`,
//!   `\d TABLE`, `\d+ TABLE`, `\di`, `\dv`, `\dv+`, `\ds`, `\dT+`, `\dD`, `\dn+`, `\du`,
//!   `\l`, `\df`, `\dp`, `\dd` (same output as PostgreSQL 15, with psql 15 and psql 18, see
//!   `tests/psql_oracle.rs`; sizes in `\dt+`/`\di+` are the bytes of SQLite's own b-tree,
//!   from `dbstat`, where PostgreSQL counts its 8 kB pages; `\d+ VIEW`, `pg_get_viewdef` and
//!   `pg_views` print the view's query deparsed as PostgreSQL does (the `viewdef` module;
//!   set operations and subqueries as written); `pg_tables` and `pg_indexes` list the
//!   user's tables and indexes (not the catalog's own, which PostgreSQL lists under
//!   `pg_catalog`), `pg_matviews` is empty; `pg_extension` is empty, PostgreSQL has plpgsql), and for pgjdbc's `DatabaseMetaData` (same output as
//!   PostgreSQL 15 but for `getIndexInfo`'s `NON_UNIQUE` type and statistics, see
//!   `tests/jdbc.rs`), what pgcli's completion loads (`tests/pgcli.rs`), and Diesel's
//!   `print-schema` (same output as PostgreSQL 15, see `tests/diesel.rs`). `pg_type`
//!   lists the array types a column can have (`_int4`...). `pg_settings` lists the server's settings (name and
//!   value); `pg_proc` lists no built-in function (`'array_in'::regproc` and
//!   `'trigger'::regtype` still name PostgreSQL's OIDs; `typinput` is an OID, printed
//!   as a number where PostgreSQL prints the function's name).
//!   Statements are split on `;` outside quotes and comments (and inside `CREATE TRIGGER`
//!   only after `END`), then each is prepared by SQLite.
//!
//! # Limitations
//!
//! * One writer at a time (SQLite's), and in memory one transaction at a time across all
//!   sessions. A transaction block that reads and then writes fails with 40001 when
//!   another session wrote in between (PostgreSQL's READ COMMITTED would go on); retry it.
//! * SQLite stores what it likes: a value that does not fit its column's described type
//!   (`'abc'` in an `INTEGER` column) fails with 22P02/22003 when read (use `STRICT`
//!   tables to refuse it on write). A table column is described with PostgreSQL's OID
//!   and typmod for its declared type (`types::declared`: `varchar(100)` is 1043/104,
//!   `numeric(10,2)` 1700 with its scale, `char(n)`, `timestamp(3)`; enums their own OID,
//!   domains their base type) and its values are written as PostgreSQL writes them
//!   (`numeric(10,2)` rounds and pads to 2 digits: `12.50`; `char(n)` pads). A numeric
//!   without a declared scale loses it (`12.50` is `12.5`); stored values are not
//!   rounded (`WHERE x = 12.56` does not find a `numeric(10,2)` 12.555).
//! * Values are checked on the way in by the `_pgproto_check_*` triggers (not listed in
//!   `pg_catalog`): `varchar(n)`/`char(n)` lengths (22001), `numeric(p,s)` magnitudes
//!   (22003), enum labels (22P02), domain NOT NULL and CHECK (the `usertypes` module),
//!   and every built-in type's input (`types::check_stored`: `'abc'` for an integer
//!   22P02, out of range 22003, a bad date 22007, bad JSON 22P02; a fraction for an
//!   integer column, which PostgreSQL rounds, 0A000). Values written in another form
//!   than PostgreSQL's are stored in its form by an `AFTER` trigger
//!   (`types::normalize_stored`: booleans as 0/1, bytea as bytes, dates, times,
//!   timestamps (timestamptz in UTC), intervals and uuids as PostgreSQL writes them,
//!   jsonb in its output form, the `jsonb` module), so that SQLite's comparisons,
//!   sorting and functions see PostgreSQL's value. Tables made before this check was
//!   added get it with their next schema change.
//!   An enum column is declared with the enum's collation (`COLLATE "pg_enum_mood"`,
//!   registered on the connection), so it compares and sorts in the enum's order; an
//!   enum value outside a column (a literal, a cast) is text.
//! * Typed: bool, bytea, int2/4/8, oid, float4/8, numeric, text, varchar, char, and
//!   (stored as text, converted with the core's codecs) date, time, timestamp,
//!   timestamptz, interval and uuid; json and jsonb are text (jsonb binary with its
//!   version byte; casts to json and jsonb are described as json and jsonb). Arrays are
//!   results only (`array_agg`, described as `text[]`, `bool[]`, `int8[]`...) and
//!   `ARRAY[...]` constructors of literals, kept as their text; `ARRAY[...]` of other
//!   expressions is refused with 0A000. `x -> k` on a value whose json/jsonb type is not
//!   evident from a cast (a column) is refused with 0A000, as is `->>` giving an object
//!   or array from one, and so are `#>` on such a value, `@>`/`<@`/`&&` where
//!   neither operand shows whether it is jsonb or an array (a column and `'{}'` or
//!   `'{red}'`: cast one; JSON no array's text can be, `'{"a": 1}'`, is jsonb), and the set-returning JSON functions elsewhere (two in a select list, or
//!   `jsonb_each` there); `pg_typeof` of other than a literal or a cast is refused with
//!   0A000 and its result is described as text (not regtype); `to_hex` of a negative
//!   number (its width depends on the type) is refused with 0A000, as is `SELECT
//!   DISTINCT ON` with `*` or in a set operation. `concat` of a boolean writes
//!   `true`/`false` where the type-aware pass knows it is one (a column, a comparison;
//!   else SQLite's 1/0; `quote_literal` of a boolean writes 1/0), and JSON built from a
//!   `numeric` value writes SQLite's number (`1.5`, not `1.50`) in `json[b]_build_*`
//!   (the `tojson` functions write a `numeric(p,s)` column's scale). `json_agg` and its
//!   kin refuse with 0A000 a table's row (its columns are not known to the rewrite:
//!   select them in a subquery), an expression whose type the rewrite cannot tell (a
//!   cast says it), and a column of a view computed by an expression or of a `WITH`
//!   query, or a number of a domain. Dates and times (the `datetime`
//!   module): typed literals and casts are read as PostgreSQL reads ISO 8601 text
//!   (22008/22007 as PostgreSQL; other formats, `'now'`, `'1.5 hours'`: 0A000);
//!   `date ± int`, `date - date`, `timestamp/date ± interval`, `timestamp - timestamp`,
//!   `interval ± interval` on operands the syntax shows to be dates or times
//!   (literals, casts, `now()`, `current_date`, these operators' results), `extract`,
//!   `date_part`, `date_trunc`, `age(a, b)` and `to_char` (common patterns; ISO weeks,
//!   `TZ`, `TH`... 0A000) answer as PostgreSQL 15. Arithmetic on a date or time
//!   column, other operators on these types (42883 in PostgreSQL), comparing intervals
//!   or a date with a timestamp, `timetz`, `timestamp(p)` casts and
//!   `interval '1' day` are refused with 0A000.
//! * Arithmetic in a query (`+ - * / %`, `sum`, `avg`; the `arith` module) gives
//!   PostgreSQL's answer or an error (date and time operands are the `datetime`
//!   module's; `date ± integer` on a value that reads as a date is computed here): 64-bit integer overflow is 22003, a zero divisor
//!   22012, and a non-integer answer is returned only when float8 (SQLite's) holds
//!   PostgreSQL's exact numeric answer, else 0A000 (`0.1 + 0.2`, `10 / 3.0`); float8
//!   values follow the same rule, so some correct float8 answers are refused. The
//!   type-aware pass (the `typed` module: a query reparsed with the declared types of
//!   the columns it names, kept per schema generation) adds what depends on types:
//!   `int2`/`int4` arithmetic fails with 22003 past its type's range (with an operand
//!   of a type it cannot tell, a parameter or a derived table's column, a result past
//!   `int4` is refused with 0A000), booleans written as text are `true`/`false`,
//!   numerics keep PostgreSQL's display scale as results and as text (a `numeric(p,s)`
//!   column's `s`, a literal's written digits, the larger for `+ -`, the sum for `*`,
//!   `round(x, n)`'s `n`; `round` of a numeric rounds the decimal half away from zero),
//!   or are refused with 0A000 where the scale depends on the values (a quotient, `avg`,
//!   `coalesce`/`CASE` branches of different scales, arithmetic on a numeric without
//!   declared scale; such a column itself, its `sum`, `min` and `max` are written as
//!   SQLite holds them, see above), a string literal cast is read wherever it is, as
//!   PostgreSQL's parser reads it (`'b%'::int` with no rows: 22P02), other constants
//!   fail before the query runs as PostgreSQL's constant folding makes them
//!   (`10000000000::int`, not in a CASE arm it drops), an operator with a NULL constant
//!   operand is NULL uncomputed, `x IN (subquery)` computes `x` only when the subquery
//!   has rows, `WHERE` conditions are evaluated cheapest first by PostgreSQL's cost
//!   estimate, and unnamed select items are named by PostgreSQL's `FigureColname`. An
//!   aggregate in a subquery whose arguments name only the outer query's (qualified)
//!   columns is refused with 0A000 (PostgreSQL aggregates it in the outer query).
//!   Not yet: a numeric computed in a `WITH` query or a subquery in `FROM` and read by
//!   the outer query (`WITH m AS (SELECT sum(x) AS t ...) SELECT t FROM m`) is written
//!   as SQLite holds it, without the display scale (`12.5` for PostgreSQL's `12.50`):
//!   the pass types the outer query's columns from tables only. `UPDATE`/`DELETE`
//!   arithmetic (SQLite's), errors that depend on which rows
//!   and conditions each planner evaluates (a join or `LIMIT` that spares PostgreSQL a
//!   row SQLite computes, or the reverse; constant folding of functions other than
//!   `nullif`/`coalesce`). The property
//!   check (`tests/property.rs`) compares random queries with PostgreSQL 15 and fails
//!   on any difference (see the README).
//! * Sequences (the `sequences` module): kept in `_pgproto_sequences`; `serial` columns
//!   and `GENERATED {BY DEFAULT | ALWAYS} AS IDENTITY [(options)]` get `t_col_seq` and a
//!   `DEFAULT (nextval('t_col_seq'))` (a serial key is not SQLite's rowid, which ignores
//!   defaults). An `INSERT` or `UPDATE` of a table with identity columns is read first
//!   (the `identity` module): a value for a `GENERATED ALWAYS` column fails with 428C9
//!   unless `OVERRIDING SYSTEM VALUE`, `OVERRIDING USER VALUE` replaces the values given
//!   by `DEFAULT`, `SET c = DEFAULT` takes the next value; `OVERRIDING USER VALUE` with
//!   a query and a data-modifying `WITH` writing to a `GENERATED ALWAYS` column's table
//!   are refused with 0A000 (COPY takes the values given, as PostgreSQL's does).
//!   `ALTER SEQUENCE ... RENAME/OWNER/SET` and a `nextval('s'::regclass)` default are
//!   refused with 0A000. Values handed out are
//!   written back after each statement; a rollback of that statement's transaction
//!   does not undo them in the running server (as in PostgreSQL), and at startup an
//!   owned sequence is raised to its column's largest value. Neither is a restart
//!   (`ALTER SEQUENCE ... RESTART`, `TRUNCATE ... RESTART IDENTITY`) undone by a
//!   rollback, where PostgreSQL undoes it.
//! * `TRUNCATE` (the `truncate` module) deletes the tables' rows, referencing tables
//!   first; a table referenced from outside the list is refused with PostgreSQL's
//!   0A000 unless `CASCADE`, which adds the referencing tables with a NOTICE each.
//! * Other primary key columns are made `NOT NULL`, as in PostgreSQL, and an `integer`
//!   key is declared `INT` so that SQLite does not make it the rowid: an insert without
//!   it fails with 23502 as in PostgreSQL, instead of getting the next id.
//! * `SET` accepts only values whose effect this server has: `TimeZone` UTC,
//!   `DateStyle` ISO, MDY, `IntervalStyle` postgres, `client_encoding` UTF8,
//!   `extra_float_digits` 1 to 3, `statement_timeout` and `lock_timeout` (any; see above),
//!   `idle_in_transaction_session_timeout` 0, a `search_path`
//!   with `public`; others fail with 0A000, as does `SET LOCAL`. `application_name`,
//!   `TimeZone`, `DateStyle`, `IntervalStyle` and `client_encoding` are reported with
//!   ParameterStatus.
//! * No function call protocol, no LISTEN/NOTIFY, no cancellation of running statements,
//!   no SQL-level `PREPARE`/`EXECUTE`, and no `EXPLAIN (options)` (0A000): sqlx's
//!   `Executor::describe` (its `query!` macro) gets parameter and column types and
//!   `pg_attribute`'s nullability as from PostgreSQL, but then fails on its
//!   `EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE` step (see `tests/sqlx_describe.rs`). A
//!   plain `EXPLAIN [VERBOSE]` answers with SQLite's query plan in PostgreSQL's shape
//!   (one `QUERY PLAN` text column, child nodes marked `->`); `EXPLAIN ANALYZE` is
//!   refused with 0A000.
//! * No `LATERAL` subquery (0A000; `LATERAL unnest(...)` is done), no index access
//!   method but btree (0A000). With `--memory`, temporary tables live on the one
//!   shared connection, so every session sees them until they are dropped.
//! * One schema, `public`: `CREATE SCHEMA IF NOT EXISTS public` does nothing (with
//!   PostgreSQL's notice), another `CREATE SCHEMA` fails with 0A000.
//! * `pg_catalog` has CHECK constraints (printed as PostgreSQL prints simple ones:
//!   comparisons, `AND`/`OR`, `IS NULL`, integer arithmetic; others as written), SQLite's
//!   triggers (`\d` shows their SQLite text) and `COMMENT ON TABLE/COLUMN` (kept in the
//!   database's `_pgproto_comments` table), sequences (`pg_sequence`), enums
//!   (`pg_enum`) and domains, the default btree operator classes (`pg_opclass`, in
//!   `pg_index.indclass`) and their families (`pg_opfamily`), the `tableoid` system
//!   column of a catalog table (its OID in PostgreSQL) and owned sequences' `pg_depend` rows; `information_schema`
//!   is a set of views over it (the `infoschema` module; its positions and lengths are
//!   described as int4, PostgreSQL's `cardinal_number`); defaults are SQLite's text
//!   (`'x'`, not `'x'::text`); `pg_database` lists the databases with locale
//!   `C.UTF-8` (SQLite compares text by code point, as glibc's `C.UTF-8` does).
//! * COPY (see the `copy` module): `COPY table [(columns)] FROM STDIN` and `COPY {table
//!   [(columns)] | (query)} TO STDOUT`, text and CSV, as one simple-query statement. COPY
//!   in runs inside a savepoint (CopyFail or bad data leave no rows) and holds the right
//!   to execute until it ends. COPY out is answered whole before it is written (the
//!   [`Handler`](pgproto_tokio::server::Handler) answers one event at a time), so it buffers the table.
//! * Expression types are guessed from the SQL text: with no guess the column is text;
//!   a wrong guess (`coalesce(real_column, 'none')` is float8) fails with 22P02 on the
//!   first value that does not convert.

mod altertable;
mod args;
mod arith;
mod arrays;
mod builtins;
mod catalog;
mod checkpoint;
mod constraints;
mod copy;
mod databases;
mod datetime;
mod ddl;
mod extras;
mod functions;
mod identity;
mod indexes;
mod infoschema;
mod jsonb;
mod jsonfuncs;
mod pgsql;
mod plan;
mod select_list;
mod sequences;
mod session;
mod sql;
mod tojson;
mod truncate;
mod typed;
mod types;
mod unnest;
mod usertypes;
mod viewdef;

pub use args::Args;
pub use session::{Database, Session, SqliteThreads, FAST_STATEMENT, LOCK_TIMEOUT};
