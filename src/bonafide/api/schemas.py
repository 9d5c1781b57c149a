"""API schemas: the JSON shapes of requests and responses, separate from tables and domain objects.

Owns: Pydantic models of the HTTP contract (DESIGN.md §8) for the platform's routes, and the money
models other route modules reuse (``MoneyIn``, ``PositiveMoneyIn``, ``MoneyOut``). Imports:
Pydantic, ``bonafide.money`` and the pure domain.

Money in requests is ``{"value": <integer minor units>, "currency": "<ISO 4217>"}`` and nothing
else: floats, numeric strings and booleans are refused (strict integers), as are unknown
currencies and extra keys. Every input model forbids unknown fields, and every string and list has
a maximum length, so a request is checked whole before anything is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictInt,
    StrictStr,
    field_validator,
)

from bonafide.market.accounts import HANDLE_LENGTH_MAX, AccountStatus, Role
from bonafide.market.listings import (
    CLAIM_LENGTH_MAX,
    CLAIMS_COUNT_MAX,
    DESCRIPTION_LENGTH_MAX,
    PROFILE_TEXT_LENGTH_MAX,
    STOCK_MAX,
    TITLE_LENGTH_MAX,
    BondStatus,
)
from bonafide.money import MINOR_UNITS, VALUE_MAX, Money

IdStr = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_currency(currency: str) -> str:
    if currency not in MINOR_UNITS:
        raise ValueError(f"{currency!r} is not a supported ISO 4217 currency code")
    return currency


_CURRENCY_FIELD = Field(
    min_length=3, max_length=3, json_schema_extra={"enum": list[JsonValue](sorted(MINOR_UNITS))},
    description="ISO 4217 code",
)


class MoneyIn(_In):
    """An amount in a request: integer minor units (1999 is 19.99) and a currency."""

    value: StrictInt = Field(ge=-VALUE_MAX, le=VALUE_MAX)
    currency: StrictStr = _CURRENCY_FIELD

    _currency = field_validator("currency")(_known_currency)

    def to_money(self) -> Money:
        return Money(self.value, self.currency)


class PositiveMoneyIn(MoneyIn):
    """An amount that must be greater than zero."""

    value: StrictInt = Field(ge=1, le=VALUE_MAX)


class MoneyOut(BaseModel):
    value: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(value=money.value, currency=money.currency)


# --- accounts -------------------------------------------------------------------------------------


class SignUpIn(_In):
    handle: StrictStr = Field(min_length=1, max_length=HANDLE_LENGTH_MAX + 8)
    roles: list[Role] = Field(min_length=1, max_length=4, description="buyer and/or seller")


class AccountOut(BaseModel):
    id: str
    handle: str
    roles: list[Role]
    status: AccountStatus
    created_at: datetime


class NewAccountOut(AccountOut):
    api_key: str = Field(description="Shown once; only a keyed hash of it is stored")


class RoleIn(_In):
    role: Role


# --- wallets --------------------------------------------------------------------------------------


class DepositIn(_In):
    account_id: IdStr
    amount: PositiveMoneyIn


class WithdrawalIn(_In):
    amount: PositiveMoneyIn


class MovementOut(BaseModel):
    id: str
    account_id: str
    amount: MoneyOut
    created_at: datetime


class BalanceOut(BaseModel):
    currency: str
    available: MoneyOut
    held: MoneyOut


class BalancesOut(BaseModel):
    account_id: str
    balances: list[BalanceOut]


# --- sellers and listings -------------------------------------------------------------------------

ProfileText = Annotated[StrictStr, Field(max_length=PROFILE_TEXT_LENGTH_MAX)]


class ProfileIn(_In):
    about: ProfileText = ""
    shipping_policy: ProfileText = Field(
        default="", description="How goods are packed and sent, and how fast"
    )
    returns_policy: ProfileText = ""
    claims: list[Annotated[StrictStr, Field(min_length=1, max_length=CLAIM_LENGTH_MAX)]] = Field(
        default_factory=list, max_length=CLAIMS_COUNT_MAX, description="Stated claims"
    )


class ProfileOut(BaseModel):
    seller_id: str
    about: str
    shipping_policy: str
    returns_policy: str
    claims: list[str]
    updated_at: datetime | None


class ListingIn(_In):
    title: StrictStr = Field(min_length=1, max_length=TITLE_LENGTH_MAX)
    description: StrictStr = Field(default="", max_length=DESCRIPTION_LENGTH_MAX)
    price: PositiveMoneyIn
    stock: StrictInt = Field(ge=0, le=STOCK_MAX)


class ListingPatch(_In):
    title: StrictStr | None = Field(default=None, min_length=1, max_length=TITLE_LENGTH_MAX)
    description: StrictStr | None = Field(default=None, max_length=DESCRIPTION_LENGTH_MAX)
    price: PositiveMoneyIn | None = None
    stock: StrictInt | None = Field(default=None, ge=0, le=STOCK_MAX)


class ListingOut(BaseModel):
    id: str
    seller_id: str
    title: str
    description: str
    price: MoneyOut
    stock: int
    active: bool
    hidden: bool
    created_at: datetime
    updated_at: datetime


class ListingPage(BaseModel):
    items: list[ListingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class BondOut(BaseModel):
    seller_id: str
    amount: MoneyOut
    covered: MoneyOut
    remaining: MoneyOut
    status: BondStatus
    placed_at: datetime
    returned_at: datetime | None


class HealthOut(BaseModel):
    ok: bool


# --- ledger ---------------------------------------------------------------------------------------


class LedgerProblemOut(BaseModel):
    code: str
    detail: str
    entry: int | None = None
    transfer_id: str | None = None
    account: int | None = None


class LedgerVerifyOut(BaseModel):
    ok: bool
    entries: int
    head: str = Field(description="Commits to the whole journal; publish it")
    accounts: int
    problems: list[LedgerProblemOut] = Field(description="At most 1,000; see problems_total")
    problems_total: int
