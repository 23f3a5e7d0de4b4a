"""E-mail of digests through SMTP: settings, the message, and one connection per run.

No Flask here: the job passes the settings in.
"""

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import escape

from marketplace.notifications.models import KINDS
from marketplace.notifications.services import DigestContent, period_label

SITE_NAME = "无锡场景创新供需对接平台"


@dataclass(frozen=True)
class MailSettings:
    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = f"{SITE_NAME} <noreply@localhost>"
    timeout: float = 10.0
    base_url: str = "http://127.0.0.1:8000"

    @property
    def enabled(self) -> bool:
        """No host configured: notices stay in-app only."""
        return bool(self.host)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "MailSettings":
        return cls(
            host=config.get("SMTP_HOST", ""),
            port=int(config.get("SMTP_PORT", 25)),
            user=config.get("SMTP_USER", ""),
            password=config.get("SMTP_PASSWORD", ""),
            starttls=bool(config.get("SMTP_STARTTLS", False)),
            sender=config.get("MAIL_FROM") or cls.sender,
            timeout=float(config.get("SMTP_TIMEOUT", 10)),
            base_url=str(config.get("BASE_URL") or cls.base_url).rstrip("/"),
        )


class MailError(Exception):
    """A send that failed. `connection` errors end the run's sending (the server is
    unreachable, so every further message would wait for the same timeout)."""

    def __init__(self, message: str, *, connection: bool) -> None:
        super().__init__(message)
        self.connection = connection


def _link(settings: MailSettings, path: str) -> str:
    return settings.base_url + path if path.startswith("/") else path


def digest_message(
    content: DigestContent, settings: MailSettings, *, now: datetime, timezone: str
) -> EmailMessage:
    """The digest as one UTF-8 e-mail: plain text, with an escaped HTML copy."""
    digest, user, notices = content.digest, content.user, content.notices
    label = period_label(digest)
    groups: dict[str, list[Any]] = {}
    for notice in notices:
        groups.setdefault(notice.kind, []).append(notice)
    ordered = [(kind, groups[kind]) for kind in KINDS if kind in groups]

    lines = [
        f"{user.display_label}，您好：",
        "",
        f"以下是您在{SITE_NAME}的{label}，共 {len(notices)} 条新通知。",
    ]
    html = [
        f"<p>{escape(user.display_label)}，您好：</p>",
        f"<p>以下是您在{SITE_NAME}的{escape(label)}，共 {len(notices)} 条新通知。</p>",
    ]
    for kind, group in ordered:
        lines += ["", f"【{KINDS[kind]}】（{len(group)}条）"]
        html.append(f"<h3>{escape(KINDS[kind])}（{len(group)}条）</h3><ol>")
        for number, notice in enumerate(group, 1):
            url = _link(settings, notice.link)
            lines.append(f"{number}. {notice.title}")
            if notice.body:
                lines.append(f"   {notice.body}")
            lines.append(f"   {url}")
            html.append(
                f'<li><a href="{escape(url)}">{escape(notice.title)}</a>'
                f"<br>{escape(notice.body)}</li>"
            )
        html.append("</ol>")
    settings_url = _link(settings, "/notifications/settings")
    all_url = _link(settings, "/notifications")
    lines += [
        "",
        f"查看全部通知：{all_url}",
        f"修改接收邮箱或摘要频率（每日、每周、不发送）：{settings_url}",
        "",
        "此邮件由系统自动发送，请勿直接回复。",
    ]
    html.append(
        f'<p><a href="{escape(all_url)}">查看全部通知</a> · '
        f'<a href="{escape(settings_url)}">修改接收邮箱或摘要频率</a></p>'
        "<p>此邮件由系统自动发送，请勿直接回复。</p>"
    )

    message = EmailMessage()
    message["Subject"] = f"【{SITE_NAME}】{label}：{len(notices)}条新通知"
    message["From"] = settings.sender
    # Whitespace (line breaks included) collapsed: a name never splits a header.
    name = " ".join(user.display_label.split())
    message["To"] = Address(display_name=name, addr_spec=user.email or "")
    message["Date"] = format_datetime(now.astimezone(ZoneInfo(timezone)))
    # The same id on every attempt, so a receiving system can drop a repeat.
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<digest-{digest.id}-{digest.period}@{domain}>"
    message.set_content("\n".join(lines))
    message.add_alternative(
        '<!doctype html><html lang="zh-CN"><body>' + "".join(html) + "</body></html>",
        subtype="html",
    )
    return message


class Mailer:
    """One SMTP connection for a run, opened at the first message."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> "Mailer":
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        connection = smtplib.SMTP(
            settings.host, settings.port, timeout=settings.timeout
        )
        try:
            if settings.starttls:
                connection.starttls(context=ssl.create_default_context())
            if settings.user:
                connection.login(settings.user, settings.password)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ) as error:
            raise MailError(_describe(error), connection=False) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise MailError(_describe(error), connection=True) from error

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
