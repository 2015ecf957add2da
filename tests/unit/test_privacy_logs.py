"""Log lines carry no personal data: phone numbers, conversation ids that are numbers,
e-mails and cards are masked in every record, whatever handler writes it."""

from __future__ import annotations

import logging

from teranga.privacy.logs import mask_personal_data_in_logs


def test_a_log_line_names_no_number_no_address(masking, caplog):
    logger = logging.getLogger("teranga.test")
    with caplog.at_level(logging.INFO):
        logger.warning("Giving up sending to %s on %s: %s", "whatsapp:+221755866693",
                       "twilio_whatsapp", "the customer wrote 77 123 45 67, awa@example.sn")
        logger.info("card 4111 1111 1111 1111 refused for %s", "+999123456789")
    said = " ".join(record.getMessage() for record in caplog.records)
    for personal in ("755866", "123 45", "awa@example.sn", "4111 1111", "123456"):
        assert personal not in said, personal
    assert "whatsapp:+" in said and "twilio_whatsapp" in said  # the rest stays readable


def test_installing_twice_masks_once_and_a_bad_format_is_left_to_logging(masking, caplog):
    mask_personal_data_in_logs()
    with caplog.at_level(logging.INFO):
        logging.getLogger("teranga.test").info("sent to %s", "+221771234567")
    assert caplog.records[0].getMessage() == "sent to +22177•••••67"
    broken = logging.getLogRecordFactory()("teranga.test", logging.INFO, __file__, 1,
                                           "broken %d", ("not a number",), None)
    assert broken.msg == "broken %d"  # left for logging to report, as it does
