"""E-mail a report (PDF and XLSX attached) to the configured recipients over SMTP.

Configured by GCX_SMTP_* settings (see .env.example). Without a server nothing is sent and the
returned status says so; the archive is the record either way. A server that refuses the message
raises, so the run fails visibly (the report stays archived).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from gcx.settings import Settings

NOT_CONFIGURED = "not e-mailed: no SMTP server configured"
NO_RECIPIENTS = "not e-mailed: no recipients configured (GCX_SMTP_RECIPIENTS)"
MIME_TYPES = {
    ".pdf": ("application", "pdf"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def build_message(settings: Settings, subject: str, body: str, attachments: list[Path]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(settings.smtp_recipients)
    message["Subject"] = subject
    message.set_content(body)
    for path in attachments:
        maintype, subtype = MIME_TYPES[path.suffix]
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def send_report(settings: Settings, subject: str, body: str, attachments: list[Path]) -> str:
    """Send the report if SMTP is configured; returns what happened, for the asset's metadata."""
    if not settings.smtp_host:
        return NOT_CONFIGURED
    if not settings.smtp_recipients:
        return NO_RECIPIENTS
    message = build_message(settings, subject, body, attachments)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as server:
        if settings.smtp_starttls:
            server.starttls()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            server.login(settings.smtp_user, password)
        server.send_message(message)
    return f"e-mailed to {', '.join(settings.smtp_recipients)} via {settings.smtp_host}:{settings.smtp_port}"
