"""What a request may send before the API spends anything on it.

- A body is at most `MAX_BODY_BYTES`: a larger `Content-Length` is refused before one byte is read,
  and a body without one is cut off where it passes the limit. Either way a 413 `payload_too_large`,
  so a 200 MB body costs milliseconds and no memory.
- A `/v1` request with a body must carry a key: without one it is refused (401 `missing_key`) before
  its body is read, which is what FastAPI would otherwise do first.
- WebSocket messages are capped by the server (`MAX_WS_MESSAGE_BYTES`, `gcx serve`), and a request
  names at most `MAX_SYMBOLS` symbols (api/params.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

MAX_BODY_BYTES = 1_048_576
"""1 MiB: online scoring of the largest batch (500 members) takes about 200 KB."""
MAX_WS_MESSAGE_BYTES = 65_536
"""A subscribe with every symbol is a few kilobytes."""
BODYLESS = {"GET", "HEAD", "OPTIONS", "DELETE"}


class RequestLimits:
    """Pure ASGI, outside the routes: it answers before FastAPI reads a body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if scope["path"].startswith("/v1/") and b"authorization" not in headers:
            response = error_response(
                401,
                "missing_key",
                "this route needs an API key: send `Authorization: Bearer <key>` (create one with `gcx keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        received = 0
        refused = False

        async def counted_receive() -> Message:
            # past the limit: answer 413 now, and tell the app the client is gone so that it stops
            # reading (whatever it answers then is dropped)
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    refused = True
                    await self._too_large(scope, receive, send)
            return {"type": "http.disconnect"} if refused else message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted_receive, unless_refused)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"request bodies are limited to {self.max_body_bytes:,} bytes",
            {"limit_bytes": self.max_body_bytes},
            headers={"Connection": "close"},  # the rest of the body is not read
        )
        await response(scope, receive, send)
