"""What a detector found in a message: its kind and where it is."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of personal data. Secrets are never stored; the others are masked where they do not
# serve the customer.
SECRET = "secret"  # PIN, OTP, password, secret code
PHONE = "phone"
EMAIL = "email"
CARD = "card"  # payment card number (Luhn-valid)
IBAN = "iban"
NATIONAL_ID = "national_id"  # Senegal's CNI, Nigeria's NIN and BVN, Kenya's ID...
NAME = "name"
KINDS = (SECRET, PHONE, EMAIL, CARD, IBAN, NATIONAL_ID, NAME)


@dataclass(frozen=True)
class Found:
    kind: str
    start: int  # offsets in the text searched: text[start:end] is what was found
    end: int

    def of(self, text: str) -> str:
        return text[self.start:self.end]
