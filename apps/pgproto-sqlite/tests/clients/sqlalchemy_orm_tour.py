"""What a SQLAlchemy 2 ORM user does first (the README's snippet, extended), printed
line by line so that the output on PostgreSQL and on pgproto-sqlite can be compared:
create_all (twice), objects with relationships inserted in one flush (SQLAlchemy's
many-rows INSERT ... RETURNING), a join, an update, a delete, aggregates."""
import sys

from sqlalchemy import ForeignKey, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    pages: Mapped[int | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")


engine = create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg://"))
Base.metadata.create_all(engine)
Base.metadata.create_all(engine)  # creates nothing the second time
with Session(engine) as session:
    ada = Author(name="Ada", books=[Book(title="Notes", pages=50), Book(title="Sketches")])
    grace = Author(name="Grace", books=[Book(title="Compilers", pages=300)])
    session.add_all([ada, grace])
    session.commit()
    print("ids", ada.id, grace.id, [b.id for b in ada.books + grace.books])
    rows = session.execute(
        select(Book.title, Author.name).join(Book.author).order_by(Book.title)
    ).all()
    print("join", rows)
    session.get(Book, ada.books[1].id).pages = 20
    session.delete(grace.books[0])
    session.commit()
    totals = session.execute(
        select(Author.name, func.count(Book.id), func.sum(Book.pages))
        .outerjoin(Book)
        .group_by(Author.name)
        .order_by(Author.name)
    ).all()
    print("totals", totals)
    print("scalar", session.scalar(select(func.max(Book.pages))))
