//! The Diesel CLI against PostgreSQL 15 and pgproto-sqlite (`diesel_cli` from crates.io,
//! built for PostgreSQL with libpq, a cached [`DieselCli`]): on an empty database
//! `diesel migration run` of one migration (an enum, serial and bigserial keys,
//! varchar(n), text, numeric(10,2), bool, date, timestamp, timestamptz, uuid, json,
//! jsonb, bytea, integer and bigint arrays, nullable columns, two foreign keys, a
//! composite key, comments on a table and a column), `diesel print-schema --with-docs`
//! (the comments, or Diesel's own text where there is none), `diesel migration list`,
//! `diesel migration redo` (its `down.sql` then its `up.sql` again) and `print-schema`
//! once more. Each step's output (exit status, stdout, stderr) must be PostgreSQL's;
//! steps that still differ are listed in [`KNOWN_DIFFERENT`], and the test checks that
//! they still do.

mod support;

use std::path::Path;
use std::process::Output;

use pgproto_tests::diesel::DieselCli;

/// The migration's name (Diesel's `YYYY-MM-DD-HHMMSS_name` directory).
const MIGRATION: &str = "2024-01-01-000000_create_blog";

const UP: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE authors (
    id serial PRIMARY KEY,
    name varchar(100) NOT NULL,
    bio text,
    feeling mood NOT NULL,
    rating numeric(10,2),
    active boolean NOT NULL DEFAULT true,
    born date,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamptz
);
COMMENT ON TABLE authors IS 'People who write posts';
COMMENT ON COLUMN authors.bio IS 'Free text, may be empty';
CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    author_id integer NOT NULL REFERENCES authors (id),
    title varchar(200) NOT NULL,
    token uuid NOT NULL,
    meta json,
    doc jsonb NOT NULL,
    body bytea,
    scores integer[] NOT NULL,
    big_scores bigint[]
);
CREATE TABLE post_tags (
    post_id bigint NOT NULL REFERENCES posts (id),
    tag varchar(20) NOT NULL,
    PRIMARY KEY (post_id, tag)
);
";

const DOWN: &str = "
DROP TABLE post_tags;
DROP TABLE posts;
DROP TABLE authors;
DROP TYPE mood;
";

/// Steps whose output still differs from PostgreSQL's, and why.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[];

/// A directory with `diesel.toml` and the migration, for one server.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("diesel.toml"), "").unwrap();
    let migration = dir.path().join("migrations").join(MIGRATION);
    std::fs::create_dir_all(&migration).unwrap();
    std::fs::write(migration.join("up.sql"), UP).unwrap();
    std::fs::write(migration.join("down.sql"), DOWN).unwrap();
    dir
}

/// One step's outcome: its exit status and its output (stdout, then stderr).
fn outcome(out: &Output) -> String {
    format!(
        "{}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The steps on one server: (step, outcome).
fn run_all(diesel: &DieselCli, dir: &Path, url: &str) -> Vec<(&'static str, String)> {
    let steps: &[(&str, &[&str])] = &[
        ("migration run", &["migration", "run"]),
        ("print-schema", &["print-schema", "--with-docs"]),
        ("migration list", &["migration", "list"]),
        ("migration redo", &["migration", "redo"]),
        ("print-schema after redo", &["print-schema", "--with-docs"]),
    ];
    steps
        .iter()
        .map(|(step, args)| {
            let mut all = args.to_vec();
            all.extend(["--database-url", url]);
            (*step, outcome(&diesel.run(dir, &all)))
        })
        .collect()
}

#[test]
fn diesel_print_schema_and_migrations_answer_as_on_postgresql() {
    let started = std::time::Instant::now();
    let diesel = DieselCli::installed().unwrap();
    eprintln!("diesel_cli ready in {:?}", started.elapsed());
    let pg = support::postgresql_15();
    let server = support::start_program(&["--memory"]);
    let user = pg.superuser().to_string();
    let pg_project = project();
    let sqlite_project = project();

    let expected = run_all(&diesel, pg_project.path(), &pg.connection_url(&user, None));
    let got = run_all(
        &diesel,
        sqlite_project.path(),
        &format!(
            "postgresql://{user}@127.0.0.1:{}/postgres",
            server.addr.port()
        ),
    );

    // PostgreSQL's answers are the oracle: each step succeeded there, and the schema
    // printed has what the migration made (so that the comparison covers it).
    for (step, want) in &expected {
        assert!(
            want.starts_with("exit status: 0\n"),
            "PostgreSQL: {step}: {want}"
        );
    }
    let schema = &expected[1].1;
    for part in [
        "authors (id)",
        "posts (id)",
        "post_tags (post_id, tag)",
        "postgres_type(name = \"mood\")",
        "#[max_length = 100]",
        "rating -> Nullable<Numeric>",
        "scores -> Array<Nullable<Int4>>",
        "/// People who write posts",
        "/// Free text, may be empty",
        "diesel::joinable!(posts -> authors (author_id));",
    ] {
        assert!(
            schema.contains(part),
            "{part} in PostgreSQL's schema:\n{schema}"
        );
    }

    let mut comparison = support::Comparison::default();
    for ((step, want), (_, have)) in expected.iter().zip(&got) {
        let known = KNOWN_DIFFERENT.iter().any(|(k, _)| k == step);
        comparison.check(step, want, have, known);
    }
    comparison.finish("diesel");
}
