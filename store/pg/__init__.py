"""The PostgreSQL backend (issue 15): the store, outbox and spool of docs/STORE.md in one
database that every node of a service shares. Selected by `[store] backend = "postgresql"`;
the schema is made and migrated by `leakline db upgrade` (store/pg/schema.py).

Nothing here imports psycopg until a connection is made: the file store needs no driver.
"""
