"""Operators get one JSON object per log line, with the request's id, path, status and time."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from fastapi.testclient import TestClient

from kefu.logs import JsonFormatter, TextFormatter, configure_logging


def test_each_request_is_logged_once_with_its_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kefu.request"):
        response = client.get("/login")
    records = [r for r in caplog.records if r.name == "kefu.request"]
    assert len(records) == 1
    record = records[0]
    assert record.__dict__["path"] == "/login"
    assert record.__dict__["status"] == 200
    assert record.__dict__["request_id"] == response.headers["x-request-id"]
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "request"
    assert line["level"] == "info"
    assert line["status"] == 200
    assert line["ms"] >= 0


def test_json_lines_keep_chinese_and_exceptions_readable() -> None:
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord("kefu", logging.ERROR, __file__, 1, "处理失败", (), None)
        record.exc_info = sys.exc_info()
    record.__dict__["shop"] = "mianli"
    line = JsonFormatter().format(record)
    assert "处理失败" in line  # not \u escapes
    parsed = json.loads(line)
    assert parsed["shop"] == "mianli"
    assert "ValueError: 坏了" in parsed["exc"]
    assert "shop=mianli" in TextFormatter().format(record)


def test_configure_logging_replaces_handlers_and_silences_duplicate_access_logs() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(level="WARNING", fmt="json")
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
        assert logging.getLogger("uvicorn.access").disabled
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False
