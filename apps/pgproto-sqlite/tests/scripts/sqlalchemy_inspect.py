"""SQLAlchemy 2's inspector on one database (the URL, argv[1]): create_all twice for a few
models, then the inspector's answers as JSON, for tests/sqlalchemy.rs to compare."""
import json
import sys

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Identity, Index, Integer,
                        MetaData, Numeric, String, Table, Text, UniqueConstraint,
                        create_engine, inspect, BigInteger)

url = sys.argv[1]
engine = create_engine(url)
md = MetaData()
Table("authors", md,
      Column("id", Integer, primary_key=True),
      Column("name", String(100), nullable=False),
      Column("email", String(200), unique=True),
      Column("bio", Text))
Table("books", md,
      Column("id", BigInteger, Identity(), primary_key=True),
      Column("author_id", Integer, ForeignKey("authors.id", ondelete="CASCADE"), nullable=False),
      Column("title", String(200), nullable=False),
      Column("price", Numeric(10, 2)),
      Column("published", Boolean, server_default="false"),
      Column("added", DateTime(timezone=True)),
      UniqueConstraint("author_id", "title", name="books_author_title_key"),
      Index("books_title_idx", "title"))
out = {}
steps = []
try:
    md.create_all(engine)
    steps.append("create_all")
    md.create_all(engine)
    steps.append("create_all again")
except Exception as e:  # noqa: BLE001
    out["create_all_error"] = str(e).splitlines()[0]
insp = inspect(engine)


def ask(name, f):
    try:
        out[name] = f()
    except Exception as e:  # noqa: BLE001
        out[name] = {"error": str(e).splitlines()[0]}


ask("get_table_names", lambda: sorted(insp.get_table_names()))
for t in ["authors", "books"]:
    ask(f"get_columns {t}", lambda t=t: [
        {k: (str(v) if k in ("type", "default") else v) for k, v in c.items()
         if k not in ("comment",)} for c in insp.get_columns(t)])
    ask(f"get_pk_constraint {t}", lambda t=t: insp.get_pk_constraint(t))
    ask(f"get_foreign_keys {t}", lambda t=t: insp.get_foreign_keys(t))
    ask(f"get_indexes {t}", lambda t=t: sorted(insp.get_indexes(t), key=lambda i: i["name"]))
    ask(f"get_unique_constraints {t}", lambda t=t: sorted(insp.get_unique_constraints(t), key=lambda i: i["name"]))
out["steps"] = steps
print(json.dumps(out, indent=1, sort_keys=True, default=str))
