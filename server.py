"""The ASGI app for `uvicorn server:app` (settings from FAQBOT_* variables)."""

from bot.api import create_app

app = create_app()
