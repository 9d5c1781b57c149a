"""bonafide: the trust layer for marketplaces of unknown sellers.

The public surface is small and cheap to import: money and the error tree. Everything heavier
(the database, the HTTP app, the fraud engine) is imported from its own package when needed.
"""

from bonafide.errors import (
    BonafideError,
    Conflict,
    Forbidden,
    NotFound,
    Rejected,
    TooMany,
    Unauthorized,
)
from bonafide.money import Money, Rounding, split

__all__ = [
    "BonafideError",
    "Conflict",
    "Forbidden",
    "Money",
    "NotFound",
    "Rejected",
    "Rounding",
    "TooMany",
    "Unauthorized",
    "split",
]
__version__ = "0.1.0"
