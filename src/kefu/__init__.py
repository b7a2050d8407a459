"""Kefu (客服): an open-source, Chinese-first customer-service desk for online shops."""

__version__ = "0.1.0"
