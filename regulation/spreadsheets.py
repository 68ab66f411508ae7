"""Cells a spreadsheet will not run as formulas, for every CSV the tracker writes (the API's
exports and the admin's). A cell that begins with =, +, -, @, a tab or a carriage return is
a formula to Excel, LibreOffice and Google Sheets (a staff text beginning "=HYPERLINK(...)"
would run on the reader's machine): OWASP's guidance is to begin such a cell with a single
quote, which the spreadsheet shows as text. A plain number ("-3", "+4.5") is left alone."""

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def inert(value: str) -> str:
    """The cell's text, made inert where a spreadsheet would read it as a formula."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
