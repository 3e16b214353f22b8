"""Analytics (issue 12): events recorded as they happen (tables.py), the daily roll-up and the
period figures (store.py, definitions in bot/domain/analytics.py), CSAT, the supervisor's
dashboard API and CSV export (routes.py). docs/ANALYTICS.md says what every figure means."""
