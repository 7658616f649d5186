"""What pgcli's completion refresher loads, through pgcli's own PGExecute: one line per
method, `name<TAB>value`, the value's rows sorted (or `error: ...`).

Relations, columns and functions are printed for the schemas other than pg_catalog and
information_schema: PostgreSQL lists its own system tables, views and thousands of
built-in functions there, which pgproto-sqlite does not list (its catalog is a set of
temporary tables, and pg_proc has no built-in functions). How many rows each list has
in the system schemas is not compared.

Usage: pgcli_completion.py DSN
"""
import sys

from pgcli.pgexecute import PGExecute

SYSTEM = ("pg_catalog", "information_schema")


def user_rows(rows):
    return [r for r in rows if r[0] not in SYSTEM]


def function_rows(rows):
    return [
        (f.schema_name, f.func_name, f.arg_names, f.arg_types, f.arg_modes, f.return_type,
         f.is_aggregate, f.is_window, f.is_set_returning, f.is_extension, f.arg_defaults)
        for f in rows
        if f.schema_name not in SYSTEM
    ]


def main():
    executor = PGExecute(dsn=sys.argv[1])
    methods = [
        ("search_path", lambda: executor.search_path()),
        ("schemata", lambda: executor.schemata()),
        ("tables", lambda: user_rows(executor.tables())),
        ("views", lambda: user_rows(executor.views())),
        ("table_columns", lambda: user_rows(executor.table_columns())),
        ("view_columns", lambda: user_rows(executor.view_columns())),
        ("functions", lambda: function_rows(executor.functions())),
        ("datatypes", lambda: list(executor.datatypes())),
        ("foreignkeys", lambda: [tuple(fk) for fk in executor.foreignkeys()]),
        ("databases", lambda: executor.databases()),
        ("casing", lambda: list(executor.casing())),
    ]
    for name, method in methods:
        try:
            rows = [tuple(r) if isinstance(r, (list, tuple)) else r for r in method()]
            value = repr(sorted(rows, key=repr))
        except Exception as e:  # the line says which method failed and how
            value = f"error: {type(e).__name__}: {e}".replace("\n", " ")
        print(f"{name}\t{value}")


main()
