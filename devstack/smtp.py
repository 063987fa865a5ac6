"""The SMTP sink: aiosmtpd on loopback, keeping every message it receives in a Maildir, so
people and tests can read what the system would have mailed."""

import mailbox
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

HOST = "127.0.0.1"


@contextmanager
def running(port: int, maildir: Path) -> Iterator[Controller]:
    """The sink, accepting mail on ``port`` until the block ends."""
    maildir.parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(maildir), hostname=HOST, port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def serve(port: int, maildir: Path) -> None:
    """Runs the sink until the process is stopped."""
    with running(port, maildir):
        threading.Event().wait()


def messages(maildir: Path) -> list[mailbox.MaildirMessage]:
    """Every message the sink kept, oldest first."""
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    return sorted((message for _key, message in box.items()), key=lambda message: message.get_date())
