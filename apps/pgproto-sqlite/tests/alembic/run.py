"""Runs one Alembic command for tests/alembic.rs: argv is the environment's directory,
the database URL, then Alembic's own arguments."""
import os
import sys

from alembic.config import main

directory, url, *args = sys.argv[1:]
os.chdir(directory)
sys.path.insert(0, directory)
main(argv=["-c", "alembic.ini", "-x", f"url={url}", *args])
