"""What a psycopg 3 user does first, printed line by line so that the output on
PostgreSQL and on pgproto-sqlite can be compared: typed parameters and results, the
cursor's description, COPY in text and binary (write_row / rows()), a rolled-back
transaction, errors with their SQLSTATE."""
import datetime
import decimal
import sys
import uuid

import psycopg


def main(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute(
            "create table tour (id integer primary key, name text not null, flag boolean,"
            " f8 double precision, amount numeric, day date, at timestamp, u uuid,"
            " data bytea)"
        )
        cur.execute(
            "insert into tour values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (1, "one", True, 1.5, decimal.Decimal("12.5"), datetime.date(2024, 2, 29),
             datetime.datetime(2024, 1, 1, 12, 34, 56, 789000),
             uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xff"),
        )
        print("rowcount", cur.rowcount)
        columns = "id, name, flag, f8, amount, day, at, u, data"
        with cur.copy(f"copy tour ({columns}) from stdin (format binary)") as copy:
            copy.set_types(["int4", "text", "bool", "float8", "numeric", "date",
                            "timestamp", "uuid", "bytea"])
            copy.write_row((2, "", None, None, None, None, None, None, None))
            copy.write_row((3, "ünïcode", False, -0.125, decimal.Decimal("-3.25"),
                            datetime.date(1999, 12, 31), datetime.datetime(2000, 1, 1),
                            None, b""))
        print("copy rowcount", cur.rowcount)
        with cur.copy("copy tour (id, name) from stdin") as copy:
            copy.write_row((4, "text\tcopy"))
        cur.execute("select * from tour order by id")
        print("description", [(d.name, d.type_code) for d in cur.description])
        for row in cur.fetchall():
            print("row", row)
        with cur.copy("copy (select id, name, day from tour order by id) to stdout (format binary)") as copy:
            copy.set_types(["int4", "text", "date"])
            for row in copy.rows():
                print("copied out", row)
        cur.execute("select count(*), sum(id) from tour where id > %s", (1,))
        print("aggregate", cur.fetchone())

        conn.autocommit = False
        cur.execute("delete from tour")
        conn.rollback()
        cur.execute("select count(*) from tour")
        print("after rollback", cur.fetchone())
        conn.rollback()
        conn.autocommit = True

        for sql, args in [
            ("insert into tour (id, name) values (%s, %s)", (1, "again")),
            ("insert into tour (id, name) values (%s, %s)", (99, None)),
            ("select * from missing_table", None),
        ]:
            try:
                cur.execute(sql, args)
                print("no error", sql)
            except psycopg.Error as e:
                print("error", type(e).__name__, e.sqlstate)


main(sys.argv[1])
