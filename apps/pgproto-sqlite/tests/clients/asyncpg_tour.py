"""What an asyncpg user does first, printed line by line so that the output on
PostgreSQL and on pgproto-sqlite can be compared: prepared statements and the types
they report, binary COPY of records, typed results, executemany, a rolled-back
transaction, errors with their SQLSTATE."""
import asyncio
import datetime
import decimal
import sys
import uuid

import asyncpg


async def main(dsn):
    c = await asyncpg.connect(dsn)
    await c.execute(
        "create table tour (id integer primary key, name text not null, flag boolean,"
        " f8 double precision, amount numeric, day date, at timestamp, u uuid,"
        " data bytea, big bigint, small smallint)"
    )
    st = await c.prepare("select id, name, flag, amount, day from tour where id = $1")
    print("parameters", [t.name for t in st.get_parameters()])
    print("columns", [(a.name, a.type.name) for a in st.get_attributes()])

    records = [
        (1, "one", True, 1.5, decimal.Decimal("12.5"), datetime.date(2024, 2, 29),
         datetime.datetime(2024, 1, 1, 12, 34, 56, 789000),
         uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xff", 2**53 + 1, -2),
        (2, "", None, None, None, None, None, None, None, None, None),
        (3, "ünïcode", False, -0.125, decimal.Decimal("-3.25"), datetime.date(1999, 12, 31),
         datetime.datetime(2000, 1, 1), None, b"", -1, 32767),
    ]
    print("copy", await c.copy_records_to_table("tour", records=records))
    for row in await c.fetch("select * from tour order by id"):
        print("row", tuple(row))
    print("prepared", tuple(await st.fetchrow(3)))

    await c.executemany(
        "insert into tour (id, name, big) values ($1, $2, $3)",
        [(10, "ten", 10), (11, "eleven", None)],
    )
    print("count", await c.fetchval("select count(*) from tour"))
    print("sum", await c.fetchval("select sum(big) from tour where id >= $1", 10))

    try:
        async with c.transaction():
            await c.execute("delete from tour")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    print("after rollback", await c.fetchval("select count(*) from tour"))

    for sql, args in [
        ("insert into tour (id, name) values ($1, $2)", (1, "again")),
        ("insert into tour (id, name) values ($1, $2)", (99, None)),
        ("select * from missing_table", ()),
    ]:
        try:
            await c.execute(sql, *args)
            print("no error", sql)
        except asyncpg.PostgresError as e:
            print("error", type(e).__name__, e.sqlstate)
    await c.close()


asyncio.run(main(sys.argv[1]))
