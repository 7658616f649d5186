-- Recorded as pg18_psql_proto32.{frontend,backend}.bin with protocol 3.2.
select current_setting('server_version_num')::int as version_num, 1 as a, 'x' as b \; select null::int as n;
select 1/0;
set application_name = 'rec18';
select g, md5(g::text) from generate_series(1, 3) g;
