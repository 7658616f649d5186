"""Alembic's environment for tests/alembic.rs: the database URL comes from
`-x url=...`, the models from models.py; types are compared (Alembic's default)."""
from alembic import context
from sqlalchemy import create_engine

from models import metadata

url = context.get_x_argument(as_dictionary=True)["url"]
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
