"""Backend API (aiohttp, port 8000): `python -m bot.backend [--port 8000]`."""
