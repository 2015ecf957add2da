"""Personal data masked in every log line Teranga's processes write (the Rasa server, the
action server, the desk and the `teranga` commands): a log leaves the conversation store,
is copied to process managers and log collectors, and is kept longer than anyone looks at
it. Conversation ids that are phone numbers are masked too (`+•••••••••67`), even those the
phone library does not know.

Masked when the record is made, whatever handlers and formatters Rasa or Sanic install
later, and only for records that pass their logger's level. A traceback's text is not
masked: Teranga's messages never interpolate a customer's text into an exception."""

from __future__ import annotations

import logging
import re

from teranga.privacy.personal_data import mask

# Conversation ids of SMS and WhatsApp are numbers in international form; one the phone
# library does not know (a new range, a test number) is still a person's.
_INTERNATIONAL_NUMBER = re.compile(r"\+\d{6,13}(\d\d)(?!\d)")


def _last_two_digits(number: re.Match) -> str:
    return "+" + "•" * (len(number.group()) - 3) + number.group(1)


def masked(text: str) -> str:
    """`text` as a log line may show it: personal data and phone-number ids masked."""
    return _INTERNATIONAL_NUMBER.sub(_last_two_digits, mask(text))


def mask_personal_data_in_logs() -> None:
    """Install the masking record factory for this process (once)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_personal_data", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report
            return record
        hidden = masked(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return record

    masked_record.masks_personal_data = True
    logging.setLogRecordFactory(masked_record)
