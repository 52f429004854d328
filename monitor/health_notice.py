"""Tells IT, once, when an account stops working and when it works again.

The pipeline logs every change of an account's status; this sends the same news by email to the
IT recipients (``[report] recipients``), never to the headteacher and never on every failed poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from monitor.email import header_text
from monitor.pipeline import PollOutcome
from monitor.transports import DeliveryFailed, Transport

log = logging.getLogger(__name__)

WHAT_TO_DO = {
    "auth_failed": "The platform refused Hall Monitor's credentials. Renew the token or session file "
    "for this account (see docs/connectors.md or docs/instagram.md) and restart the service.",
    "rate_limited": "The platform asked Hall Monitor to slow down or blocked it for a while. Polling "
    "is paused and resumes by itself; nothing to do unless this keeps happening.",
    "quota_exhausted": "The daily or monthly quota or read budget is used up. Polling resumes when it "
    "resets; raise the budget in the config if this happens every period.",
    "transient": "The platform could not be reached (network, timeout or a server error). Hall Monitor "
    "retries at every poll.",
    "unexpected_response": "The platform answered with something Hall Monitor could not read. It "
    "retries at every poll; if this persists, check for a Hall Monitor update.",
    "crash": "The connector failed unexpectedly. The log has the details; other accounts are unaffected.",
}


class AccountHealthNotifier:
    def __init__(
        self,
        transport: Callable[[], Transport],
        school_name: str,
        from_address: str,
        recipients: Sequence[str],
        clock: Callable[[], datetime],
        domain: str = "hallmon.invalid",
    ) -> None:
        self.transport = transport
        self.school_name = school_name
        self.from_address = from_address
        self.recipients = tuple(recipients)
        self.clock = clock
        self.domain = domain

    def message(self, outcome: PollOutcome) -> EmailMessage:
        working = outcome.status == "ok"
        message = EmailMessage(policy=SMTP)
        state = "is working again" if working else f"has stopped working ({outcome.status.replace('_', ' ')})"
        message["Subject"] = header_text(f"[Hall Monitor] IT: account {outcome.account_key} {state}", 160)
        message["From"] = self.from_address
        message["To"] = ", ".join(self.recipients)
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid("hallmon.health", domain=self.domain)
        message["Auto-Submitted"] = "auto-generated"
        lines = [
            f"Hall Monitor at {self.school_name}: the account {outcome.account_key} {state}.",
            "",
        ]
        if working:
            lines.append("Polling has resumed; nothing was lost while it was failing.")
        else:
            lines += [
                f"What happened: {outcome.message}",
                "",
                f"What to do: {WHAT_TO_DO.get(outcome.status, WHAT_TO_DO['crash'])}",
                "",
                "Other accounts keep being monitored. You will get one more email when this account works again.",
                "Details: hallmon status; journalctl -u hallmon",
            ]
        message.set_content("\n".join(lines))
        return message

    def notify(self, outcome: PollOutcome) -> bool:
        """Email IT about a status change; False (and a log line) if it could not be sent."""
        if not outcome.status_changed or outcome.status == "skipped" or not self.recipients:
            return False
        try:
            self.transport().send(self.message(outcome))
        except DeliveryFailed as exc:
            log.warning("could not email IT about %s: %s", outcome.account_key, exc)
            return False
        return True
