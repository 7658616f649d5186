// What a node-postgres user does first, printed line by line so that the output on
// PostgreSQL and on pgproto-sqlite can be compared: plain and parameterized queries,
// the fields' type OIDs, typed values, a prepared (named) query, a rolled-back
// transaction, errors with their SQLSTATE.
const { Client } = require('pg');

async function main(url) {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query(
    'create table tour (id integer primary key, name text not null, flag boolean,' +
      ' f8 double precision, amount numeric, day date, at timestamp, u uuid, data bytea,' +
      ' big bigint)'
  );
  const ins = await c.query(
    'insert into tour values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), ' +
      '(2, $11, null, null, null, null, null, null, null, null)',
    [1, 'one', true, 1.5, '12.5', '2024-02-29', '2024-01-01 12:34:56.789',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', Buffer.from([0, 255]), '9007199254740993', '']
  );
  console.log('insert', ins.command, ins.rowCount);
  const all = await c.query('select * from tour order by id');
  console.log('fields', JSON.stringify(all.fields.map((f) => [f.name, f.dataTypeID])));
  for (const row of all.rows) {
    console.log('row', JSON.stringify(row, (k, v) =>
      v && v.type === 'Buffer' ? 'bytes:' + Buffer.from(v.data).toString('hex') : v));
  }
  const named = { name: 'by-id', text: 'select name, flag from tour where id = $1', values: [1] };
  console.log('named', JSON.stringify((await c.query(named)).rows));
  named.values = [2];
  console.log('named again', JSON.stringify((await c.query(named)).rows));
  const arr = await c.query({ text: 'select id, name from tour order by id', rowMode: 'array' });
  console.log('array rows', JSON.stringify(arr.rows));

  await c.query('begin');
  await c.query('delete from tour');
  await c.query('rollback');
  console.log('after rollback', (await c.query('select count(*) as n from tour')).rows[0].n);

  for (const [sql, values] of [
    ['insert into tour (id, name) values ($1, $2)', [1, 'again']],
    ['insert into tour (id, name) values ($1, $2)', [99, null]],
    ['select * from missing_table', []],
  ]) {
    try {
      await c.query(sql, values);
      console.log('no error', sql);
    } catch (e) {
      console.log('error', e.code);
    }
  }
  await c.end();
}

main(process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
