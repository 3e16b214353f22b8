"""Adapters: SQLAlchemy tables, repositories, unit of work, and the two PaymentsBackend
adapters (in-process SQL, HTTP client)."""
