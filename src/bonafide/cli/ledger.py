"""CLI commands ``bonafide ledger verify`` and ``bonafide ledger walkthrough``.

Owns: printing the verify report (the exit status is a contract: 0 when the ledger is sound,
1 on any problem) and the escrow walk-through that ``make demo`` runs. Imports:
``bonafide.bootstrap``, ``bonafide.service.ledger``, the pure ``bonafide.ledger``,
``bonafide.money``, ``bonafide.settings``, typer and rich; never ``bonafide.store`` or SQLAlchemy.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bonafide.bootstrap import Container, connect
from bonafide.errors import BonafideError
from bonafide.ledger import AccountKind, LedgerAccountId, TransferKind, TransferSpec, VerifyReport
from bonafide.money import Money, Rounding, percent_of
from bonafide.service import ledger
from bonafide.settings import Settings

ledger_app = typer.Typer(help="The escrow ledger: verify it, or walk through it.",
                         no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]


def _register() -> None:
    from bonafide.cli.app import app

    app.add_typer(ledger_app, name="ledger")


def _connect(db: str | None) -> Container:
    return connect(Settings(database_url=db) if db else Settings())


@ledger_app.command("verify")
def verify(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-derive every balance from the journal and check the chain and the invariants.

    Exits 0 when everything holds, 1 when anything does not (each problem names its entry or
    account).
    """
    container = _connect(db)
    try:
        started = time.perf_counter()
        report = ledger.verify(container.uow(read_only=True))
        elapsed = time.perf_counter() - started
    finally:
        container.close()
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        print_report(Console(), report, seconds=elapsed)
    if not report.ok:
        raise SystemExit(1)


def print_report(console: Console, report: VerifyReport, *, seconds: float | None = None) -> None:
    took = "" if seconds is None else f" in {seconds:.2f} s"
    head = report.head[:16]
    if report.ok:
        console.print(
            f"[bold green]ledger ok[/]: {report.entries:,} entries, {report.accounts:,} accounts, "
            f"head {head}…{took}"
        )
        return
    table = Table(title=f"{report.problems_total:,} problem(s)", show_lines=False)
    table.add_column("where")
    table.add_column("problem", style="bold red")
    table.add_column("detail")
    for problem in report.problems:
        table.add_row(problem.subject, problem.code, problem.detail)
    console.print(table)
    shown = len(report.problems)
    if shown < report.problems_total:
        console.print(f"(first {shown} shown)")
    console.print(
        f"[bold red]ledger NOT ok[/]: {report.entries:,} entries, {report.accounts:,} accounts, "
        f"head {head}…{took}"
    )


@ledger_app.command("walkthrough")
def walkthrough(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: a fresh temporary SQLite file)."),
    ] = None,
) -> None:
    """Walk through escrow on a fresh ledger: deposit, hold, release with a fee, cancel, expire,
    retry, refuse, withdraw, verify."""
    console = Console()
    if db is None:
        folder = Path(tempfile.mkdtemp(prefix="bonafide-walkthrough-"))
        db = f"sqlite:///{folder / 'ledger.db'}"
    container = _connect(db)
    try:
        _Story(container, console).tell()
    finally:
        container.close()


class _Story:
    def __init__(self, container: Container, console: Console) -> None:
        self.container = container
        self.say = console.print
        self.console = console
        self.now: datetime = container.clock.now()
        self.run = f"{int(self.now.timestamp())}"  # ids unique per run, so --db can be reused

    def eur(self, value: int) -> Money:
        return Money(value, "EUR")

    def tid(self, name: str) -> str:
        return f"walk-{self.run}-{name}"

    def step(self, title: str) -> None:
        self.say(f"\n[bold cyan]▸ {title}[/]")

    def accounts(self) -> dict[str, LedgerAccountId]:
        uow = self.container.uow()
        with uow:
            found = {
                "buyer": ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR",
                                            owner_id=f"buyer-{self.run}"),
                "seller": ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR",
                                             owner_id=f"seller-{self.run}"),
                "escrow o-1": ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR",
                                                 name=f"order:{self.run}-1"),
                "escrow o-2": ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR",
                                                 name=f"order:{self.run}-2"),
                "fees": ledger.account_for(uow, kind=AccountKind.FEES, currency="EUR"),
                "external": ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency="EUR"),
            }
            uow.commit()
        return found

    def execute(self, *specs: TransferSpec, at: datetime | None = None) -> None:
        uow = self.container.uow()
        with uow:
            done = ledger.execute(uow, list(specs), now=at or self.now)
            uow.commit()
        for t in done:
            self.say(f"  #{t.sequence} {t.kind} {t.amount} {t.debit_account_id} → "
                     f"{t.credit_account_id} [dim]({t.id})[/]")

    def refused(self, action: Callable[[], object]) -> None:
        try:
            action()
        except BonafideError as error:
            self.say(f"  refused: [bold red]{error.code}[/] — {error.message}")
        else:
            raise AssertionError("the walk-through expected a refusal here")

    def balances(self, names: dict[str, LedgerAccountId]) -> None:
        table = Table(show_header=True)
        for column in ("account", "id", "available", "held", "incoming"):
            table.add_column(column, justify="right" if column != "account" else "left")
        uow = self.container.uow(read_only=True)
        with uow:
            for name, account_id in names.items():
                b = ledger.balance(uow, account_id)
                table.add_row(name, str(account_id), str(b.available), str(b.held),
                              str(b.incoming))
        self.console.print(table)

    def tell(self) -> None:
        a = self.accounts()
        self.step("The operator credits the buyer's wallet with 100.00 EUR from outside")
        ledger.deposit(self.container.uow(), transfer_id=self.tid("deposit"),
                       owner_id=f"buyer-{self.run}", amount=self.eur(10_000), now=self.now,
                       actor="operator", memo="card top-up")
        self.balances({"buyer": a["buyer"], "external": a["external"]})

        self.step("Order 1: the buyer's 40.00 EUR is held in escrow (pending, expires in 14 days)")
        hold = TransferSpec(self.tid("o1-fund"), a["buyer"], a["escrow o-1"], self.eur(4_000),
                            kind=TransferKind.PENDING, expires_at=self.now + timedelta(days=14),
                            memo="order o-1 funded", actor="buyer")
        self.execute(hold)
        self.balances({"buyer": a["buyer"], "escrow o-1": a["escrow o-1"]})

        self.step("The same request again (a network retry): the first result, nothing moves")
        self.execute(hold)
        self.step("The same id with a different amount: refused")
        changed = TransferSpec(hold.id, hold.debit_account_id, hold.credit_account_id,
                               self.eur(4_100), kind=hold.kind, expires_at=hold.expires_at,
                               memo=hold.memo, actor=hold.actor)
        self.refused(lambda: self.execute(changed))

        self.step("The buyer confirms delivery: post the hold, pay the seller, take a 5 % fee "
                  "(one linked batch)")
        price = self.eur(4_000)
        fee = percent_of(price, basis_points=500, rounding=Rounding.REMAINDER_TO_FIRST)
        self.execute(
            TransferSpec(self.tid("o1-release"), None, None, price,
                         kind=TransferKind.POST_PENDING, pending_id=hold.id,
                         memo="order o-1 completed", actor="buyer"),
            TransferSpec(self.tid("o1-pay"), a["escrow o-1"], a["seller"], price - fee,
                         memo="order o-1 payout", actor="buyer"),
            TransferSpec(self.tid("o1-fee"), a["escrow o-1"], a["fees"], fee,
                         memo="order o-1 fee", actor="buyer"),
        )
        self.balances({k: a[k] for k in ("buyer", "escrow o-1", "seller", "fees")})

        self.step("Order 2: 25.00 EUR held, then cancelled before shipping (void)")
        self.execute(TransferSpec(self.tid("o2-fund"), a["buyer"], a["escrow o-2"],
                                  self.eur(2_500), kind=TransferKind.PENDING,
                                  expires_at=self.now + timedelta(hours=1), actor="buyer"))
        self.execute(TransferSpec(self.tid("o2-cancel"), None, None, self.eur(0),
                                  kind=TransferKind.VOID_PENDING,
                                  pending_id=self.tid("o2-fund"), actor="buyer",
                                  memo="cancelled by buyer"))
        self.step("A hold that nobody resolves expires; the sweep returns it to the buyer")
        self.execute(TransferSpec(self.tid("o3-fund"), a["buyer"], a["escrow o-2"],
                                  self.eur(1_000), kind=TransferKind.PENDING,
                                  expires_at=self.now + timedelta(hours=1), actor="buyer"))
        later = self.now + timedelta(hours=2)
        uow = self.container.uow()
        with uow:
            swept = ledger.expire_pending(uow, now=later)
            uow.commit()
        self.say(f"  swept {swept} expired hold(s)")
        self.step("Posting the expired hold is refused")
        self.refused(lambda: self.execute(
            TransferSpec(self.tid("o3-release"), None, None, self.eur(1_000),
                         kind=TransferKind.POST_PENDING, pending_id=self.tid("o3-fund")),
            at=later))

        self.step("The buyer tries to withdraw more than is available")
        self.refused(lambda: ledger.withdraw(
            self.container.uow(), transfer_id=self.tid("overdraw"),
            owner_id=f"buyer-{self.run}", amount=self.eur(1_000_000), now=later, actor="buyer"))
        self.step("The seller withdraws the payout")
        ledger.withdraw(self.container.uow(), transfer_id=self.tid("payout"),
                        owner_id=f"seller-{self.run}", amount=price - fee, now=later,
                        actor="seller")
        self.balances(a)

        self.step("bonafide ledger verify: replay the journal, check the chain and invariants")
        report = ledger.verify(self.container.uow(read_only=True))
        print_report(self.console, report)
        if not report.ok:
            raise SystemExit(1)


_register()
