"""A lean HTTP/1.1 client for the gateway's one request per buyer message: the POST to Rasa's
REST channel (bot/gateway/rasa.py `RasaClient.send`).

Why: aiohttp's client took ~0.6 ms of CPU per request here (request and response objects,
header multidicts, cookie jar, payload classes, timer contexts), the largest single part of the
gateway's CPU per message after the database (docs/SCALING.md, "Fourth round"); this exchange
takes ~0.15 ms (same stub, same machine, 1,000 requests each). It does only what that request
needs: plain http, a JSON body written with its headers in one send (one TCP segment, as tcp.py
arranged for aiohttp), kept connections, a response with Content-Length, chunked or
read-to-close, one total timeout. Anything else (https, the tracker calls) stays on aiohttp.

Errors: `ConnectFailed` when the connection could not be opened (nothing was sent: the caller
may fail over to another replica, as with aiohttp's ClientConnectorError); `HttpError` for
everything after that (the server closed the connection, a malformed answer); `asyncio.TimeoutError`
when the whole exchange took longer than `timeout_s`. A connection is reused only when the
answer said it may be, and only if it has been idle less than IDLE_S (Sanic closes idle
connections after 5 s; reusing one it is closing would lose the message).
"""
from __future__ import annotations

import asyncio
import time
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

IDLE_S = 2.0
MAX_IDLE_PER_HOST = 64
MAX_BODY = 8 * 1024 * 1024


class HttpError(Exception):
    """The exchange failed after the connection was open (the request may have arrived)."""


class ConnectFailed(HttpError):
    """The connection could not be opened: nothing was sent."""


_Conn = Tuple[asyncio.StreamReader, asyncio.StreamWriter, float]


class LeanHttp:
    def __init__(self, idle_s: float = IDLE_S):
        self.idle_s = idle_s
        self._idle: Dict[Tuple[str, int], List[_Conn]] = {}
        self._targets: Dict[str, Tuple[str, int, bytes, bytes]] = {}

    def _target(self, url: str) -> Tuple[str, int, bytes, bytes]:
        t = self._targets.get(url)
        if t is None:
            u = urlsplit(url)
            if u.scheme != "http" or not u.hostname:
                raise ValueError(f"LeanHttp speaks plain http only: {url}")
            path = (u.path or "/") + (f"?{u.query}" if u.query else "")
            if len(self._targets) > 1000:
                self._targets.clear()
            t = self._targets[url] = (u.hostname, u.port or 80, path.encode("ascii"), u.netloc.encode("ascii"))
        return t

    def _take(self, key: Tuple[str, int]) -> Optional[Tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        pool = self._idle.get(key)
        now = time.monotonic()
        while pool:
            reader, writer, since = pool.pop()
            if now - since < self.idle_s and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    def _give_back(self, key: Tuple[str, int], reader, writer) -> None:
        pool = self._idle.setdefault(key, [])
        if len(pool) >= MAX_IDLE_PER_HOST:
            writer.close()
        else:
            pool.append((reader, writer, time.monotonic()))

    async def post(self, url: str, body: bytes, headers: Dict[str, str], timeout_s: float) -> Tuple[int, bytes]:
        """POST `body` (JSON) to `url`: (status, response body)."""
        host, port, path, netloc = self._target(url)
        head = [b"POST ", path, b" HTTP/1.1\r\nHost: ", netloc,
                b"\r\nContent-Type: application/json\r\nContent-Length: ", str(len(body)).encode(), b"\r\n"]
        for name, value in headers.items():
            if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
                raise ValueError("a header must not contain a line break")
            head += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        head.append(b"\r\n")
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = loop.call_later(timeout_s, expire)
        key = (host, port)
        writer = None
        keep = False
        try:
            conn = self._take(key)
            if conn is None:
                try:
                    conn = await asyncio.open_connection(host, port)
                except OSError as exc:
                    raise ConnectFailed(f"cannot connect to {host}:{port}: {exc}") from exc
            reader, writer = conn
            writer.write(b"".join(head) + body)  # headers and body in one send
            status, keep, data = await _response(reader)
            return status, data
        except asyncio.CancelledError:
            keep = False
            if expired:
                raise asyncio.TimeoutError() from None
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            keep = False
            if isinstance(exc, ConnectFailed):
                raise
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            timer.cancel()
            if writer is not None:
                if keep:
                    self._give_back(key, reader, writer)
                else:
                    writer.close()

    def close(self) -> None:
        for pool in self._idle.values():
            for _reader, writer, _since in pool:
                writer.close()
        self._idle.clear()


async def _response(reader: asyncio.StreamReader) -> Tuple[int, bool, bytes]:
    """(status, whether the connection may be reused, body) of one HTTP/1.x response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    status = int(status_text)
    length: Optional[int] = None
    chunked = False
    keep = version == b"HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            value = value.strip().lower()
            keep = value == b"keep-alive" or (keep and value != b"close")
    if chunked:
        parts, size_total = [], 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                    pass
                break
            size_total += size
            if size_total > MAX_BODY:
                raise ValueError("response too large")
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, keep, b"".join(parts)
    if length is not None:
        if length > MAX_BODY:
            raise ValueError("response too large")
        return status, keep, await reader.readexactly(length)
    if status in (204, 304) or 100 <= status < 200:
        return status, keep, b""
    parts, size_total = [], 0  # no length: the body ends when the server closes
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return status, False, b"".join(parts)
        size_total += len(chunk)
        if size_total > MAX_BODY:
            raise ValueError("response too large")
        parts.append(chunk)
