"""Email (电子邮件) over SMTP with aiosmtplib: one message per delivery, a stable Message-ID per notice.

`Mailer.send` raises on any refusal or connection failure; the delivery loop records it and retries.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from services.notices.settings import NoticesSettings


class Mailer:
    def __init__(self, settings: NoticesSettings) -> None:
        self.s = settings

    @property
    def configured(self) -> bool:
        return bool(self.s.smtp_host)

    def message(self, *, to: str, notice_id: int, title: str, body: str) -> EmailMessage:
        m = EmailMessage()
        m["From"] = self.s.mail_from
        m["To"] = to
        m["Subject"] = f"【考核通知】{title}"
        # the same notice keeps its Message-ID on every attempt: a mail system can tell a repeat
        m["Message-ID"] = f"<notice-{notice_id}@kaohe.notices>"
        m.set_content(f"{body}\n\n—— 考核办 · 本邮件由考核系统发送，请登录系统查看详情。")
        return m

    async def send(self, message: EmailMessage) -> None:
        s = self.s
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_s,
        )
