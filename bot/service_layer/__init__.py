"""Use cases behind the PaymentsBackend port, on a unit of work, with an injected clock."""
