"""Issue 17, finding 8 (last part): var/ databases and logs were world-readable (0644)."""
import os
import stat

from bot.adapters.db import make_engine
from bot.files import private_dir, private_file, secure_tree
from bot.stack import ProcessSpec, Stack


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_databases_and_their_directory_are_private(tmp_path):
    db = tmp_path / "var" / "paylater.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert mode(db.parent) == 0o700
    for f in db.parent.iterdir():  # the database and SQLite's -wal / -shm
        assert mode(f) & 0o077 == 0, (f.name, oct(mode(f)))
    engine.dispose()


def test_existing_world_readable_files_are_restricted(tmp_path):
    var = tmp_path / "var"
    (var / "log").mkdir(parents=True)
    (var / "log" / "rasa.log").write_text("buyer said ...")
    (var / "paylater.db").write_text("")
    for p in (var, var / "log"):
        os.chmod(p, 0o755)
    for p in (var / "log" / "rasa.log", var / "paylater.db"):
        os.chmod(p, 0o644)
    secure_tree(var)
    assert mode(var) == 0o700 and mode(var / "log") == 0o700
    assert mode(var / "log" / "rasa.log") == 0o600 and mode(var / "paylater.db") == 0o600
    assert private_file(var / "new.db") and mode(var / "new.db") == 0o600
    assert mode(private_dir(var / "a" / "b")) == 0o700


def test_stack_logs_and_what_its_processes_create_are_private(tmp_path):
    import sys

    import pytest

    made = tmp_path / "made-by-child.txt"
    spec = ProcessSpec("child", [sys.executable, "-c", f"open({str(made)!r}, 'w').write('x')"],
                       "http://127.0.0.1:9/never")
    stack = Stack([spec], dict(os.environ), tmp_path / "logs")
    with pytest.raises(RuntimeError):  # the child writes its file and exits: never healthy
        stack.start(timeout_s=60)
    assert mode(made) == 0o600  # umask 077 for every process of the stack
    assert mode(tmp_path / "logs") == 0o700 and mode(tmp_path / "logs" / "child.log") == 0o600
