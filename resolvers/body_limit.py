"""``BodyLimit``: refuses request bodies above a size with 413 before anything reads them
whole, so no route (GraphQL, the internal endpoints, Stripe's webhook before its signature
check) ever holds or parses more than the limit.

A declared ``Content-Length`` over the limit is refused at once; a body sent without one
(chunked) is counted as it streams in and refused as soon as it passes the limit: reading it
raises ``PayloadTooLarge``, which the app answers like any other problem.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.errors import BadUserInput
from resolvers.problems import PayloadTooLarge, payload_too_large, problem


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await problem(400, "Content-Length must be a number of bytes.", code=BadUserInput.code)(
                scope, receive, send
            )
            return
        if declared is not None and int(declared) > self.max_bytes:
            await payload_too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)
