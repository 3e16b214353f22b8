"""`python -m bot.demo_data` runs beside a live backend (the stack tests reload the demo rows
between tests; an operator may reload a demo): another process commits on the same SQLite file
between the loader's reads and its writes, and the load still succeeds (CI once failed here with
"database is locked": the backend's outbox dispatcher committed inside the loader's transaction)."""
import threading

import sqlalchemy as sa

from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.demo_data import load
from bot.service_layer import services

from .conftest import TODAY


def test_reloading_the_demo_rows_while_another_process_commits(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    upgrade(url)
    loader, other = make_engine(url), make_engine(url)  # two pools: as two processes on one file
    with other.begin() as c:
        c.exec_driver_sql("CREATE TABLE elsewhere (n INTEGER)")
    writers = []

    def commit_elsewhere():  # as the backend's dispatcher marking an outbox event delivered
        with other.begin() as c:
            c.exec_driver_sql("INSERT INTO elsewhere VALUES (1)")

    real_read = services._draw_and_disbursement

    def read_then_another_commit(uow, draw_id):
        out = real_read(uow, draw_id)
        # the other process commits now, after this transaction read (it waits if we hold the
        # write lock, so it is not awaited to the end)
        t = threading.Thread(target=commit_elsewhere)
        t.start()
        t.join(1.0)
        writers.append(t)
        return out

    monkeypatch.setattr(services, "_draw_and_disbursement", read_then_another_commit)
    try:
        load(loader, TODAY)
    finally:
        for t in writers:
            t.join(30)
        loader.dispose()
    assert writers  # the race was staged
    try:
        with other.connect() as c:
            arrived = c.execute(sa.text("SELECT count(*) FROM disbursements WHERE arrived_on IS NOT NULL")).scalar_one()
            elsewhere = c.execute(sa.text("SELECT count(*) FROM elsewhere")).scalar_one()
        assert arrived == 1  # DRW-TA-100198's money reached the supplier, the others' not yet
        assert elsewhere == len(writers)  # and the other process lost nothing either
    finally:
        other.dispose()
