"""Structured JSON logging with dotted event names: `log.info("outbox.relay.published", count=3)`."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        extra = getattr(record, "kv", None)
        if extra:
            doc.update(extra)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class Log:
    """A thin structured logger: the message is a dotted event name, context goes in keywords."""

    def __init__(self, name: str) -> None:
        self._l = logging.getLogger(name)

    def _log(self, level: int, event: str, exc: bool = False, **kv: Any) -> None:
        if self._l.isEnabledFor(level):
            self._l.log(level, event, extra={"kv": kv}, exc_info=exc)

    def debug(self, event: str, **kv: Any) -> None:
        self._log(logging.DEBUG, event, **kv)

    def info(self, event: str, **kv: Any) -> None:
        self._log(logging.INFO, event, **kv)

    def warning(self, event: str, **kv: Any) -> None:
        self._log(logging.WARNING, event, **kv)

    def error(self, event: str, **kv: Any) -> None:
        self._log(logging.ERROR, event, **kv)

    def exception(self, event: str, **kv: Any) -> None:
        self._log(logging.ERROR, event, exc=True, **kv)


def get(name: str) -> Log:
    return Log(name)


def configure(level: str = "INFO", json: bool = True) -> None:
    """Route the root logger to stderr, as JSON lines or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("nats", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
