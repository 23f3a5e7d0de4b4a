"""Settings from the environment (the names are fixed by CONTRACT.md)."""

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigurationError(RuntimeError):
    """The environment cannot run the platform as configured; the message says how
    to fix it."""


MISSING_SECRET_KEY = (
    "SECRET_KEY 未设置：生产环境（MARKETPLACE_ENV 未设或为 production）必须在环境变量中"
    "配置 SECRET_KEY，所有进程使用同一个，例如 "
    "SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\"。"
    "本机开发请用 make run、flask run，或设 MARKETPLACE_ENV=development。"
)


def settings_from_env(
    environ: Mapping[str, str], instance_path: str, *, development_server: bool = False
) -> dict[str, Any]:
    """Build the app's settings; the only place that reads environment variables.

    Without MARKETPLACE_ENV the platform runs as production, except under `flask run`
    (`development_server`): Werkzeug's server is for development only and serves
    plain HTTP, over which a browser drops Secure cookies, so signing in would fail
    with csrf_failed on the first run.
    """
    instance = Path(instance_path)
    default_env = "development" if development_server else "production"
    production = environ.get("MARKETPLACE_ENV", default_env) != "development"
    # Production never makes one up: a key written into the code tree would differ
    # per host and per checkout, and sits beside the code, not with the secrets.
    # create_app refuses to start without one (after a test's overrides are applied).
    secret_key = environ.get("SECRET_KEY") or (
        None if production else _instance_secret(instance)
    )
    return {
        "DATABASE_URL": environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'marketplace.sqlite'}"
        ),
        "SECRET_KEY": secret_key,
        "MARKETPLACE_SCHEDULER": environ.get("MARKETPLACE_SCHEDULER", "off"),
        "MARKETPLACE_TIMEZONE": environ.get("MARKETPLACE_TIMEZONE", "Asia/Shanghai"),
        # The two bodies that review annual scene plans, by their organizations'
        # names: a reviewer account reviews for the body its organization is.
        "PLAN_REVIEW_ORGANIZATIONS": {
            "ndrc": environ.get(
                "MARKETPLACE_NDRC_ORGANIZATION", "无锡市发展和改革委员会"
            ),
            "finance": environ.get("MARKETPLACE_FINANCE_ORGANIZATION", "无锡市财政局"),
        },
        "PRODUCTION": production,
        # Plain-HTTP development on 127.0.0.1 cannot carry Secure cookies.
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "marketplace_session",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "SESSION_LIFETIME_HOURS": int(environ.get("MARKETPLACE_SESSION_HOURS", "12")),
        "JIEBA_CACHE_DIR": str(instance),
        # The matcher's dense stage (sentence vectors of the bundled e5 model).
        "MATCH_DENSE": environ.get("MARKETPLACE_DENSE", "on").lower() in _YES,
        # One memory-mapped file of vectors per index version, shared by the workers
        # of a host; empty means the database's own directory, as for editions.
        "VECTORS_DIRECTORY": environ.get("MARKETPLACE_VECTORS_DIR", ""),
        # How long a write waits for another SQLite writer before answering 503.
        "SQLITE_BUSY_SECONDS": float(
            environ.get("MARKETPLACE_SQLITE_BUSY_SECONDS", "15")
        ),
        # Signs the head of each list's digest chain; kept outside the database.
        # Unset, a key derived from SECRET_KEY is used.
        "EDITIONS_KEY": environ.get("MARKETPLACE_EDITIONS_KEY", ""),
        # Empty means the database's own directory (`database_directory`),
        # decided once the final DATABASE_URL is known.
        "EDITIONS_DIRECTORY": environ.get("MARKETPLACE_EDITIONS_DIR", ""),
        # Notification digests by e-mail; no host means in-app notices only.
        "SMTP_HOST": environ.get("MARKETPLACE_SMTP_HOST", ""),
        "SMTP_PORT": int(environ.get("MARKETPLACE_SMTP_PORT", "25")),
        "SMTP_USER": environ.get("MARKETPLACE_SMTP_USER", ""),
        "SMTP_PASSWORD": environ.get("MARKETPLACE_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": environ.get("MARKETPLACE_SMTP_STARTTLS", "0") in _YES,
        "SMTP_TIMEOUT": float(environ.get("MARKETPLACE_SMTP_TIMEOUT", "10")),
        "MAIL_FROM": environ.get(
            "MARKETPLACE_MAIL_FROM", "无锡场景创新供需对接平台 <noreply@localhost>"
        ),
        # Links in e-mails point here.
        "BASE_URL": environ.get("MARKETPLACE_BASE_URL", "http://127.0.0.1:8000"),
        # What the footer of a government site shows: the operator's contact, the
        # ICP filing number (备案号) and the government site code (网站标识码).
        "SITE_OPERATOR": environ.get(
            "MARKETPLACE_SITE_OPERATOR", "无锡市场景创新促进中心"
        ),
        "SITE_CONTACT_PHONE": environ.get("MARKETPLACE_SITE_CONTACT_PHONE", ""),
        "SITE_CONTACT_EMAIL": environ.get("MARKETPLACE_SITE_CONTACT_EMAIL", ""),
        "SITE_ADDRESS": environ.get("MARKETPLACE_SITE_ADDRESS", ""),
        "SITE_ICP_NUMBER": environ.get("MARKETPLACE_ICP_NUMBER", ""),
        "SITE_CODE": environ.get("MARKETPLACE_SITE_CODE", ""),
        # Reverse proxies whose X-Forwarded-For is believed (addresses or networks,
        # comma separated); nobody else's is, or anyone could pick their address.
        "TRUSTED_PROXIES": trusted_proxies(
            environ.get("MARKETPLACE_TRUSTED_PROXIES", "")
        ),
    }


def trusted_proxies(text: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.5, 10.1.0.0/16` as networks; a wrong entry stops the start, named."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"MARKETPLACE_TRUSTED_PROXIES 中的“{entry}”不是 IP 地址或网段，"
                "应写成 10.0.0.5 或 10.0.0.0/24，多个用逗号分开"
            ) from None
    return tuple(networks)


_YES = ("1", "true", "yes", "on")


def database_directory(
    database_url: str, instance_path: str, purpose: str = "editions"
) -> Path:
    """Where a database keeps its files of one `purpose` (editions, vectors) when no
    directory is configured.

    The files belong to one database: two instances on two databases must never
    share a directory, or each would serve the other's files under its own edition
    numbers. A SQLite file keeps them beside itself; a server database gets a
    directory under instance/ named after its backend, host, port and name.
    """
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).resolve()
            return path.with_name(f"{path.name}-{purpose}")
        # An in-memory database lives as long as its process; so do its files.
        return Path(instance_path) / f"{purpose}-sqlite-memory-{os.getpid()}"
    parts = [
        url.get_backend_name(),
        url.host or "localhost",
        str(url.port or "default"),
        url.database or "default",
    ]
    name = "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", part) for part in parts)
    return Path(instance_path) / f"{purpose}-{name}"


def require_secret_key(config: Mapping[str, Any]) -> None:
    """Refuse to run production without a configured SECRET_KEY, saying so."""
    if config.get("PRODUCTION") and not config.get("SECRET_KEY"):
        raise ConfigurationError(MISSING_SECRET_KEY)


def _instance_secret(instance: Path) -> str:
    """Development only: keep a random key under instance/ so sessions survive
    restarts (and the reloader) without setup."""
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
