"""The server's configuration: one object that the app factory takes."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import ValidationError

ENV_PREFIX = "ARTIFACT_DESK_SERVER_"


@dataclass(frozen=True)
class ServerConfig:
    """Where the server keeps its data and how it listens."""

    data_dir: Path
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_plain_http: bool = False
    max_batch_bytes: int = 64 << 20
    max_json_bytes: int = 256 << 20
    long_poll_max_seconds: float = 30.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """The metadata database: ``--db`` or SQLite in the data folder."""
        return self.db_url or f"sqlite:///{self.data_dir / 'metadata.sqlite3'}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def check_listening(self) -> None:
        """Refuse plain HTTP on a non-loopback address unless TLS or a proxy is declared."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValidationError("give both --tls-cert and --tls-key, or neither")
        if self.tls_cert is not None or self.allow_plain_http or _is_loopback(self.host):
            return
        raise ValidationError(
            f"refusing to serve plain HTTP on {self.host}: API keys would cross the network "
            "unencrypted. Give --tls-cert and --tls-key, or --allow-plain-http if a TLS "
            "proxy is in front, or listen on 127.0.0.1"
        )

    def to_env(self) -> dict[str, str]:
        """The config as environment variables, for uvicorn worker processes."""
        env = {f"{ENV_PREFIX}DATA": str(self.data_dir)}
        if self.db_url:
            env[f"{ENV_PREFIX}DB"] = self.db_url
        return env

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerConfig:
        env = dict(os.environ if environ is None else environ)
        data = env.get(f"{ENV_PREFIX}DATA")
        if not data:
            raise ValidationError(f"{ENV_PREFIX}DATA is not set; start the server with --data")
        return cls(data_dir=Path(data), db_url=env.get(f"{ENV_PREFIX}DB") or None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
