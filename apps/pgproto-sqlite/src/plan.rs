//! What a session works out from a query's text alone, once per text: how the text
//! splits into statements, what each statement is ([`Statement`]), what it needs from
//! the database ([`Op`]), its SQLite form (the [`sql::rewrite`]) and its command tag's
//! verb. A repeated simple query or a prepared statement's Execute looks its plan up
//! instead of tokenizing its text again.
//!
//! What depends on the schema as well (the date/time arithmetic check, the declared
//! types of a simple query's result columns) is kept beside the plan with the
//! [`SchemaGeneration`] it was worked out at, and worked out again once the generation
//! moved on: any statement other than a plain `SELECT`/`INSERT`/`UPDATE`/`DELETE`/
//! `VALUES`/`WITH`/`TABLE`/`EXPLAIN` may change the schema and moves it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::sql::{self, Statement, Unsupported};
use crate::types::ColumnType;

/// What an operation on the database needs (in increasing order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    /// Preparing, or statements that do not touch the database (`SET`, `SHOW`): no
    /// right to execute.
    Prepare,
    /// Statements that only read (in memory, the right to execute all the same).
    Read,
    /// Statements that may write: the right to write.
    Write,
}

/// The first words of statements that never change the schema (nor are a sequence,
/// type or comment statement): their schema-dependent facts may be kept.
const PLAIN: [&str; 9] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "VALUES", "WITH", "TABLE", "EXPLAIN", "REPLACE",
];

/// A query text's plan: its statements (split on `;` outside quotes and comments).
#[derive(Debug)]
pub(crate) struct QueryPlan {
    pub(crate) statements: Vec<StatementPlan>,
    /// What the whole query needs: the most any statement needs.
    pub(crate) op: Op,
    /// One statement, which starts with `COPY`.
    pub(crate) copy: bool,
    /// Whether a statement is transaction control (`BEGIN`, `COMMIT`, `SAVEPOINT`...).
    pub(crate) transaction_control: bool,
    /// Whether the text names `pg_sleep`: its SQLite work then runs off the async
    /// runtime's workers whatever the session's last statement took (a sleep would hold
    /// a worker; see [`crate::SqliteThreads`]).
    pub(crate) sleeps: bool,
}

/// One statement's plan.
#[derive(Debug)]
pub(crate) struct StatementPlan {
    /// The statement's text.
    pub(crate) text: String,
    pub(crate) kind: Statement,
    pub(crate) op: Op,
    /// A statement that cannot change the schema (see [`PLAIN`]).
    pub(crate) plain: bool,
    /// A `COPY` statement.
    pub(crate) copy: bool,
    /// An `INSERT` naming `DEFAULT`: perhaps `VALUES (DEFAULT, ...)`, whose SQLite form
    /// depends on the table's defaults (see [`sql::insert_defaults`]).
    pub(crate) defaults: bool,
    /// The SQLite form of an SQL statement ([`Statement::Sql`]).
    pub(crate) rewritten: Option<Result<String, Unsupported>>,
    /// The command tag's verb, from the SQLite form ([`sql::verb`]).
    pub(crate) verb: String,
    /// What was worked out with the schema, and at which generation.
    schema_facts: Mutex<Option<(u64, Arc<SchemaFacts>)>>,
}

/// What a plain statement's handling learned from the schema.
#[derive(Debug, Default)]
pub(crate) struct SchemaFacts {
    /// The date/time arithmetic check passed.
    pub(crate) datetime_checked: bool,
    /// A simple query's result columns: their declared types and the guesses for the
    /// others (see [`crate::catalog::declared_columns`], [`sql::result_items`]).
    pub(crate) described: Option<(Vec<Option<ColumnType>>, Vec<sql::ResultItem>)>,
    /// A query's type-aware pass ([`crate::typed`]): the SQLite form of its rewritten
    /// text (`None`: the plan's own) and its result columns' display scales.
    pub(crate) typed: Option<(Option<String>, Vec<Option<crate::typed::Scale>>)>,
}

impl StatementPlan {
    /// The plan of one statement's `text`.
    pub(crate) fn new(text: &str) -> Self {
        // `SELECT ... INTO t` is `CREATE TABLE t AS SELECT ...`: a schema change.
        let into = sql::select_into_as_create(text);
        let text = into.as_deref().unwrap_or(text);
        let toks = sql::tokenize(text);
        let kind = sql::classify(text, &toks);
        let plain = toks
            .first()
            .is_some_and(|first| PLAIN.iter().any(|kw| first.is(text, kw)));
        let copy = toks.first().is_some_and(|t| t.is(text, "COPY"));
        let defaults = toks.first().is_some_and(|t| t.is(text, "INSERT"))
            && toks.iter().any(|t| t.is(text, "DEFAULT"));
        let op = op_for(text, &kind, &toks);
        let rewritten = (kind == Statement::Sql).then(|| sql::rewrite(text));
        let verb = match &rewritten {
            Some(Ok(r)) => sql::verb(r),
            _ => sql::verb(text),
        };
        Self {
            text: text.to_string(),
            kind,
            op,
            plain,
            copy,
            defaults,
            rewritten,
            verb,
            schema_facts: Mutex::new(None),
        }
    }

    /// The facts kept for `generation`, if any.
    pub(crate) fn schema_facts(&self, generation: u64) -> Option<Arc<SchemaFacts>> {
        let kept = self.schema_facts.lock().ok()?;
        kept.as_ref()
            .filter(|(at, _)| *at == generation)
            .map(|(_, facts)| facts.clone())
    }

    /// Keeps `facts`, learned at `generation`.
    pub(crate) fn keep_schema_facts(&self, generation: u64, facts: SchemaFacts) {
        if let Ok(mut kept) = self.schema_facts.lock() {
            *kept = Some((generation, Arc::new(facts)));
        }
    }
}

/// What a statement needs: nothing for those SQLite is not given (`SET`, `SHOW`...),
/// reading for transaction control and for statements that only read, else writing.
/// Errs on the side of writing: only `SELECT`, `VALUES`, `TABLE`, `WITH` and `EXPLAIN`
/// that name no writing keyword or sequence function read.
fn op_for(text: &str, kind: &Statement, toks: &[sql::Tok]) -> Op {
    match kind {
        Statement::Set(_) | Statement::Reset | Statement::Show(_) | Statement::Ignored(_) => {
            return Op::Prepare
        }
        Statement::Sql => {}
        _ => return Op::Read,
    }
    let Some(first) = toks.first() else {
        return Op::Read;
    };
    let reads = ["SELECT", "VALUES", "TABLE", "WITH", "EXPLAIN"]
        .iter()
        .any(|kw| first.is(text, kw))
        && !toks.iter().any(|t| {
            [
                "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "NEXTVAL",
                "SETVAL", "INTO",
            ]
            .iter()
            .any(|kw| t.is(text, kw))
        });
    // A locking clause (`FOR SHARE`...) holds rows against writers: the right to write
    // stands for it (`FOR UPDATE` names a writing keyword already).
    let locks = toks
        .windows(2)
        .any(|p| p[0].is(text, "FOR") && (p[1].is(text, "SHARE") || p[1].is(text, "KEY")));
    if reads && !locks {
        Op::Read
    } else {
        Op::Write
    }
}

impl QueryPlan {
    fn new(query: &str) -> Self {
        let statements: Vec<StatementPlan> = sql::split(query)
            .into_iter()
            .map(StatementPlan::new)
            .collect();
        let op = statements.iter().map(|s| s.op).max().unwrap_or(Op::Prepare);
        let copy = matches!(statements.as_slice(), [only] if only.copy);
        let transaction_control = statements.iter().any(|s| {
            matches!(
                s.kind,
                Statement::Begin
                    | Statement::Commit
                    | Statement::Rollback
                    | Statement::RollbackTo
                    | Statement::Savepoint
                    | Statement::Release
            )
        });
        let sleeps = query.to_ascii_lowercase().contains("pg_sleep");
        Self {
            statements,
            op,
            copy,
            transaction_control,
            sleeps,
        }
    }
}

/// A session's plans, by query text.
#[derive(Debug, Default)]
pub(crate) struct Plans(HashMap<String, Arc<QueryPlan>>);

impl Plans {
    /// How many texts a session keeps plans for (all are dropped when one more comes).
    const CAPACITY: usize = 256;

    /// The plan of `query`, worked out now unless kept.
    pub(crate) fn get(&mut self, query: &str) -> Arc<QueryPlan> {
        if let Some(plan) = self.0.get(query) {
            return plan.clone();
        }
        let plan = Arc::new(QueryPlan::new(query));
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        self.0.insert(query.to_string(), plan.clone());
        plan
    }
}

/// Tables' columns and declared types (`pragma_table_info`), kept by a session for the
/// statements it runs outside transaction blocks, for one schema generation.
#[derive(Debug, Default)]
pub(crate) struct TableShapes {
    generation: u64,
    tables: HashMap<String, Arc<[(String, String)]>>,
}

impl TableShapes {
    /// How many tables a session keeps (all are dropped when one more comes).
    const CAPACITY: usize = 256;

    /// `table`'s `(column, declared type)` pairs at `generation`: kept, else `read`.
    pub(crate) fn columns(
        &mut self,
        generation: u64,
        table: &str,
        read: impl FnOnce(&str) -> Vec<(String, String)>,
    ) -> Arc<[(String, String)]> {
        if self.generation != generation || self.tables.len() >= Self::CAPACITY {
            self.tables.clear();
            self.generation = generation;
        }
        let key = table.to_ascii_lowercase();
        if let Some(columns) = self.tables.get(&key) {
            return columns.clone();
        }
        let columns: Arc<[(String, String)]> = read(table).into();
        self.tables.insert(key, columns.clone());
        columns
    }
}

/// A database's schema generation: moved on by every statement that may change the
/// schema, when it runs and again when its transaction ends (so that a session that
/// looked at the schema in between, before the change was committed, looks again).
#[derive(Debug, Default, Clone)]
pub(crate) struct SchemaGeneration(Arc<AtomicU64>);

impl SchemaGeneration {
    /// The current generation.
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Moves the generation on.
    pub(crate) fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_split_classify_and_rewrite_once() {
        let mut plans = Plans::default();
        let plan = plans.get("select 1; insert into t values ($1::int)");
        assert_eq!(plan.statements.len(), 2);
        assert_eq!(plan.op, Op::Write);
        assert!(!plan.copy && !plan.transaction_control);
        let [select, insert] = plan.statements.as_slice() else {
            panic!("two statements");
        };
        assert!(select.plain && insert.plain);
        assert_eq!(select.op, Op::Read);
        assert_eq!(select.verb, "SELECT");
        assert_eq!(insert.verb, "INSERT");
        assert_eq!(
            insert.rewritten.as_ref().map(|r| r.is_ok()),
            Some(true),
            "{insert:?}"
        );
        // The same text: the same plan.
        let again = plans.get("select 1; insert into t values ($1::int)");
        assert!(Arc::ptr_eq(&plan, &again));

        let plan = plans.get("begin; create table t (a int); commit");
        assert!(plan.transaction_control);
        assert!(!plan.statements[1].plain);
        assert_eq!(plan.statements[0].kind, Statement::Begin);
        assert_eq!(plan.statements[0].rewritten, None);

        let plan = plans.get("COPY t FROM STDIN");
        assert!(plan.copy);
        let plan = plans.get("show TimeZone");
        assert_eq!(plan.op, Op::Prepare);
        assert_eq!(plans.get("").statements.len(), 0);
        // A statement that sleeps runs off the runtime's workers.
        assert!(plans.get("select PG_SLEEP(0.1)").sleeps);
        assert!(!plan.sleeps);
    }

    #[test]
    fn table_shapes_are_read_once_per_generation() {
        let mut shapes = TableShapes::default();
        let mut reads = 0;
        let mut read = |_: &str| {
            reads += 1;
            vec![("a".to_string(), "int".to_string())]
        };
        assert_eq!(shapes.columns(0, "T", &mut read).len(), 1);
        assert_eq!(shapes.columns(0, "t", &mut read).len(), 1);
        assert_eq!(shapes.columns(1, "t", &mut read).len(), 1);
        assert_eq!(reads, 2);
    }

    #[test]
    fn schema_facts_belong_to_their_generation() {
        let mut plans = Plans::default();
        let plan = plans.get("select a from t");
        let statement = &plan.statements[0];
        let generation = SchemaGeneration::default();
        let at = generation.current();
        assert!(statement.schema_facts(at).is_none());
        statement.keep_schema_facts(
            at,
            SchemaFacts {
                datetime_checked: true,
                ..SchemaFacts::default()
            },
        );
        assert!(statement
            .schema_facts(at)
            .is_some_and(|f| f.datetime_checked));
        generation.advance();
        assert!(statement.schema_facts(generation.current()).is_none());
    }
}
