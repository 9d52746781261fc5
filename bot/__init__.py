"""faqbot: a self-hosted multilingual FAQ chatbot with human handoff."""

__version__ = "0.1.0"
