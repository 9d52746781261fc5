"""The ASGI app for `uvicorn server:app` (settings from FAQBOT_* variables)."""

from bot.web.app import create_app

app = create_app()
