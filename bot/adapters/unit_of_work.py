"""Unit of work: one connection and one transaction; repositories share it. Nothing is
written unless `commit()` is called; leaving the block rolls back the rest."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from .db import WRITE_LOCK
from .repository import BuyerRepository, CreditRepository, EventRepository, OrderRepository


class SqlAlchemyUnitOfWork:
    def __init__(self, engine: Engine, write_lock: bool = False):
        """`write_lock`: this unit of work reads-checks-writes a row it locks (credit line);
        on SQLite it starts with BEGIN IMMEDIATE, on PostgreSQL the repository uses FOR UPDATE."""
        self.engine = engine
        self.write_lock = write_lock
        self.conn = None

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        self.conn = self.engine.connect()
        if self.write_lock:
            self.conn.info[WRITE_LOCK] = True
        self._tx = self.conn.begin()
        self.buyers = BuyerRepository(self.conn)
        self.orders = OrderRepository(self.conn)
        self.credit = CreditRepository(self.conn)
        self.events = EventRepository(self.conn)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
            self.conn = None

    def commit(self) -> None:
        self._tx.commit()

    def rollback(self) -> None:
        self._tx.rollback()
