-- Recorded as pg15_psql.{frontend,backend}.bin (see pgproto-core/tests/data/README.md).
-- Several statements in one simple Query message (psql sends `\;`-joined text as one query):
select 1 as a, 'x' as b \; select null::int, now();
-- An empty query (EmptyQueryResponse):
;
-- An error:
select 1/0;
-- A notice:
do $$ begin raise notice 'hello'; end $$;
-- A notification to ourselves:
listen c;
notify c, 'payload';
-- COPY out:
copy (select g, md5(g::text) from generate_series(1,50) g) to stdout;
-- COPY in (psql's \copy sends the rows below as CopyData):
create temp table t (id int, name text);
\copy t from stdin
1	one
2	two
3	\N
\.
select * from t order by id;
-- A transaction:
begin;
insert into t values (4, 'four');
commit;
-- An error inside a transaction, then ROLLBACK:
begin;
insert into t values (5, 'five');
select 1/0;
select 1;
rollback;
-- A ParameterStatus change:
set application_name = 'rec';
-- Several rows of various types, with NULLs:
select g as int4, g::int8 * 3000000000 as int8, 'row ' || g as text,
       decode(repeat('de', g) || 'adbeef', 'hex') as bytea,
       (g * 1234.5678)::numeric(12, 4) as numeric,
       timestamptz '2024-01-02 03:04:05.678+00' + g * interval '1 day' as timestamptz,
       g % 2 = 0 as bool, array[g, null, g + 1] as int_array,
       array['a', 'b c', null] as text_array,
       case when g = 2 then null else 'not null' end as maybe_null
  from generate_series(1, 4) g;
-- Parse/Describe of a statement with a parameter (ParameterDescription):
select $1::int + 1 as plus_one, 'y'::text as y \gdesc
