"""Check-digit rules for fixed-shape identifiers (pure functions, no patterns or I/O).

Kept apart from the detector so the rules can be read, and tested, on their own.
"""

from __future__ import annotations

# IBAN length per country (SWIFT IBAN registry); an IBAN of another length is not an IBAN.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Card issuer prefixes (IIN ranges) of schemes in use; anything else is not a payment card.
CARD_PREFIXES: tuple[str, ...] = (
    "4", "51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27",  # Visa, Mastercard
    "34", "37", "30", "36", "38", "39", "35", "1800", "2131",  # Amex, Diners, JCB
    "6011", "62", "64", "65", "50", "56", "57", "58", "60", "63", "66", "67", "68", "69",  # Discover, Maestro
)  # fmt: skip

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_NINO_BAD_FIRST = set("DFIQUV")
_NINO_BAD_SECOND = set("DFIOQUV")
_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod-10) check used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_ok(digits: str) -> bool:
    """A payment card number: 12-19 digits, a known issuer prefix and a valid Luhn digit."""
    return 12 <= len(digits) <= 19 and digits.startswith(CARD_PREFIXES) and luhn_ok(digits)


def iban_ok(compact: str) -> bool:
    """An IBAN (no spaces, upper case): the country's length and the mod-97 check."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def nhs_ok(digits: str) -> bool:
    """An NHS number: 10 digits whose last is the modulus-11 check digit."""
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nino_ok(compact: str) -> bool:
    """A National Insurance number (HMRC allocation rules), e.g. ``QQ123456C``."""
    if len(compact) != 9 or not compact[2:8].isdigit() or compact[8] not in "ABCD":
        return False
    a, b = compact[0], compact[1]
    return (
        a.isalpha() and b.isalpha() and a not in _NINO_BAD_FIRST and b not in _NINO_BAD_SECOND
        and compact[:2] not in _NINO_BAD_PREFIXES
    )  # fmt: skip


def upn_ok(upn: str) -> bool:
    """A DfE unique pupil number: check letter + 12 characters (the last may be a letter)."""
    if len(upn) != 13 or upn[0] not in _UPN_LETTERS or not upn[1:12].isdigit():
        return False
    last = upn[12]
    if last.isdigit():
        last_value = int(last)
    elif last in _UPN_LETTERS:  # temporary UPN
        last_value = _UPN_LETTERS.index(last)
    else:
        return False
    values = [int(c) for c in upn[1:12]] + [last_value]
    total = sum(v * w for v, w in zip(values, range(2, 14), strict=True))
    return _UPN_LETTERS[total % 23] == upn[0]
