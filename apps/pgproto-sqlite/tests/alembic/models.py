"""The models Alembic migrates: serial and identity keys, varchar(n), numeric(p,s),
timestamptz with server_default now(), uuid, json and jsonb, an enum, a foreign key, a
unique constraint, an index and a CHECK."""
from sqlalchemy import (JSON, BigInteger, CheckConstraint, Column, DateTime, Enum,
                        ForeignKey, Identity, Index, Integer, MetaData, Numeric, String,
                        Table, Text, UniqueConstraint, Uuid, func)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(200), nullable=False),
    Column("name", String(100)),
    Column("external_id", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    UniqueConstraint("email", name="uq_customers_email"),
)

Table(
    "orders", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"),
           nullable=False),
    Column("total", Numeric(10, 2), nullable=False),
    Column("status", Enum("new", "paid", "shipped", name="order_status"), nullable=False),
    Column("note", Text),
    Column("data", JSON),
    Column("extra", JSONB),
    CheckConstraint("total >= 0", name="ck_orders_total"),
    Index("ix_orders_customer", "customer_id"),
)
