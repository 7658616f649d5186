// What a Knex user does: migrations up (tables with increments, string(n),
// decimal(p,s), timestamps defaulting to now, uuid, jsonb, a native enum and a
// check-constraint enum, a foreign key, unique and index; then an ALTER TABLE adding and
// renaming columns), rows through the query builder, columnInfo(), and every migration
// rolled back. Printed line by line so that the output on PostgreSQL and on
// pgproto-sqlite can be compared.
const knexFactory = require('knex');

const migrations = {
  '001_authors_books': {
    async up(knex) {
      await knex.schema.createTable('authors', (t) => {
        t.increments('id');
        t.string('name', 100).notNullable().unique();
        t.uuid('uid').notNullable();
        t.jsonb('meta');
        t.enu('status', ['active', 'retired'], { useNative: true, enumName: 'author_status' })
          .notNullable()
          .defaultTo('active');
        t.enu('kind', ['person', 'group']);
        t.timestamps(true, true);
      });
      await knex.schema.createTable('books', (t) => {
        t.increments('id');
        t.integer('author_id').notNullable().references('id').inTable('authors')
          .onDelete('CASCADE');
        t.string('title').notNullable();
        t.decimal('price', 8, 2);
        t.timestamp('published_at').defaultTo(knex.fn.now());
        t.index(['title']);
        t.unique(['author_id', 'title']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable('books');
      await knex.schema.dropTable('authors');
      await knex.raw('drop type author_status');
    },
  },
  '002_books_more': {
    async up(knex) {
      await knex.schema.alterTable('books', (t) => {
        t.boolean('in_print').notNullable().defaultTo(true);
        t.text('blurb');
        t.renameColumn('title', 'name');
      });
    },
    async down(knex) {
      await knex.schema.alterTable('books', (t) => {
        t.renameColumn('name', 'title');
        t.dropColumn('blurb');
        t.dropColumn('in_print');
      });
    },
  },
  '003_tags': {
    async up(knex) {
      await knex.schema.createTable('tags', (t) => {
        t.bigIncrements('id');
        t.string('label', 30).notNullable().index();
        t.integer('book_id').references('books.id').onDelete('SET NULL');
      });
    },
    async down(knex) {
      await knex.schema.dropTable('tags');
    },
  },
};

const source = {
  async getMigrations() {
    return Object.keys(migrations);
  },
  getMigrationName(m) {
    return m;
  },
  async getMigration(m) {
    return migrations[m];
  },
};

// Dates are printed as whether they are Dates near now; everything else as JSON.
function show(v) {
  return JSON.stringify(v, (k, x) => {
    if (typeof x === 'string' && /^\d{4}-\d\d-\d\dT/.test(x)) {
      return Math.abs(Date.parse(x) - Date.now()) < 600000 ? 'recent date' : x;
    }
    return x;
  });
}

async function tables(knex) {
  const r = await knex('information_schema.tables')
    .where('table_schema', knex.raw('current_schema()'))
    .orderBy('table_name')
    .pluck('table_name');
  console.log('tables', show(r));
  const types = await knex('pg_type').where('typtype', 'e').orderBy('typname').pluck('typname');
  console.log('enum types', show(types));
}

async function main(url) {
  const knex = knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 1, max: 1 },
    migrations: { migrationSource: source },
  });
  try {
    const [batch, ran] = await knex.migrate.latest();
    console.log('latest', batch, show(ran));
    console.log('current version', await knex.migrate.currentVersion());
    await tables(knex);

    const [ann] = await knex('authors')
      .insert({
        name: 'Ann',
        uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        meta: { born: 1970, tags: ['x', 'y'] },
        kind: 'person',
      })
      .returning(['id', 'status', 'created_at']);
    console.log('inserted', show(ann));
    const [bob] = await knex('authors')
      .insert({ name: 'Bob', uid: 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', status: 'retired' })
      .returning('*');
    console.log('inserted', show(bob));
    const books = await knex('books')
      .insert([
        { author_id: ann.id, name: 'First', price: '12.5' },
        { author_id: ann.id, name: 'Second', price: 7, in_print: false },
        { author_id: bob.id, name: 'Third', blurb: 'long' },
      ])
      .returning(['id', 'name', 'price', 'in_print']);
    console.log('books', show(books));
    await knex('tags').insert([
      { label: 'novel', book_id: books[0].id },
      { label: 'old', book_id: null },
    ]);
    const updated = await knex('books').where('name', 'Third').update({ price: '3.999' });
    console.log('updated', updated);

    const joined = await knex('books as b')
      .join('authors as a', 'a.id', 'b.author_id')
      .select('a.name as author', 'b.name', 'b.price', 'b.in_print', 'a.status', 'a.meta')
      .orderBy('b.id');
    for (const row of joined) console.log('joined', show(row));
    try {
      const counts = await knex('books')
        .select('author_id')
        .count('* as n')
        .sum('price as total')
        .groupBy('author_id')
        .orderBy('author_id');
      console.log('counts', show(counts));
    } catch (e) {
      console.log('counts error', e.code);
    }
    const first = await knex('authors').where({ name: 'Ann' }).first('name', 'kind', 'uid');
    console.log('first', show(first));
    const like = await knex('books').whereILike('name', '%IR%').orderBy('id').pluck('name');
    console.log('ilike', show(like));
    const inList = await knex('books').whereIn('id', [books[0].id, books[2].id]).count('*', {
      as: 'n',
    });
    console.log('whereIn', show(inList));
    const page = await knex('books').orderBy('id', 'desc').limit(2).offset(1).pluck('name');
    console.log('page', show(page));
    console.log('hasTable', await knex.schema.hasTable('books'), await knex.schema.hasTable('nope'));
    console.log('hasColumn', await knex.schema.hasColumn('books', 'in_print'),
      await knex.schema.hasColumn('books', 'title'));

    for (const table of ['authors', 'books', 'tags']) {
      const info = await knex(table).columnInfo();
      for (const [col, v] of Object.entries(info)) {
        console.log('columnInfo', table, col, show(v));
      }
    }

    for (const [what, op] of [
      ['duplicate name', () => knex('authors').insert({ name: 'Ann', uid: 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13' })],
      ['bad status', () => knex('authors').insert({ name: 'Cy', uid: 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', status: 'x' })],
      ['bad kind', () => knex('authors').insert({ name: 'Cy', uid: 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', kind: 'x' })],
      ['long name', () => knex('authors').insert({ name: 'x'.repeat(101), uid: 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13' })],
      ['missing author', () => knex('books').insert({ author_id: 999, name: 'Orphan' })],
      ['price too big', () => knex('books').insert({ author_id: ann.id, name: 'Dear', price: '1000000' })],
    ]) {
      try {
        await op();
        console.log('no error', what);
      } catch (e) {
        console.log('error', what, e.code);
      }
    }

    // Changing a column's type (ALTER COLUMN): PostgreSQL does it, SQLite cannot.
    try {
      await knex.schema.alterTable('books', (t) => {
        t.string('name', 300).notNullable().alter();
      });
      console.log('alter column', 'done');
    } catch (e) {
      console.log('alter column', 'error', e.code);
    }

    await knex('authors').where('name', 'Ann').del();
    console.log('books after cascade', show(await knex('books').orderBy('id').pluck('name')));

    const back = await knex.migrate.rollback(undefined, true);
    console.log('rollback', show(back));
    console.log('current version', await knex.migrate.currentVersion());
    await tables(knex);
  } finally {
    await knex.destroy();
  }
}

main(process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
