"""Errors a rule raises: a machine-readable code and a sentence a buyer understands."""
from __future__ import annotations


class RuleViolation(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
