"""Personal data in customers' messages: finding it (secrets, phone numbers, e-mails, card
numbers, IBANs, national ids, names), removing secrets before anything stores them, masking
the rest wherever it does not serve the customer."""
