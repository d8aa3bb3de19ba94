"""Backends: one protocol, an embedded implementation and (later) an HTTP one."""

from desktop_app.backends.protocol import Backend

__all__ = ["Backend"]
