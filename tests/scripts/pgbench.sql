\set id random(1, 10)
\set delta random(-5, 5)
select :id::int as id, 'x' as tag;
update rec_counter set n = n + :delta where id = :id;
select id, n from rec_counter where id = :id;
