"""A fake ASGI app for tests/runtime/test_workers.py: answers every request with its process id.

The test is about which worker process a connection reaches, not about faqbot's answers, so
the real app (and its model) would only make it slower.
"""

from __future__ import annotations

import os
from typing import Any


def create_app() -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = str(os.getpid()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app
