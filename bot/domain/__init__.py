"""Payment and credit rules of Pay Later: plain Python, Decimal money, no framework imports."""
