"""Export → score → import on a small market built through the order flow's use cases."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from bonafide.cli import main
from bonafide.errors import Rejected
from bonafide.market.accounts import Principal, Role
from bonafide.money import Money
from bonafide.service import ledger, orders, reviews
from bonafide.service.accounts import sign_up
from bonafide.service.listings import create_listing
from bonafide.service.scoring import ImportedScore, import_scores, imported_score
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://", review_window=timedelta(days=5))


def build_market(engine: Engine) -> tuple[list[Principal], list[Principal], int]:
    """Three sellers, five buyers; every buyer orders from every seller and both review."""

    def account(handle: str, role: Role) -> Principal:
        return sign_up(UnitOfWork(engine), handle=handle, roles=frozenset({role}),
                       settings=SETTINGS, now=T0).account.principal

    sellers = [account(f"seller{i}", Role.seller) for i in range(3)]
    buyers = [account(f"buyer{i}", Role.buyer) for i in range(5)]
    listings = [create_listing(UnitOfWork(engine), seller=s, title="Tea", description="green",
                               price=Money(1000 + 500 * i, "EUR"), stock=50, settings=SETTINGS,
                               now=T0).id for i, s in enumerate(sellers)]
    for i, buyer in enumerate(buyers):
        ledger.deposit(UnitOfWork(engine), transfer_id=f"dep-{i}", owner_id=buyer.id,
                       amount=Money(100_000, "EUR"), now=T0, actor="test")
    count = 0
    for i, buyer in enumerate(buyers):
        for j, (seller, listing) in enumerate(zip(sellers, listings, strict=True)):
            at = T0 + timedelta(hours=10 * i + j)
            order_id = orders.place_order(UnitOfWork(engine), buyer=buyer, listing_id=listing,
                                          quantity=1, settings=SETTINGS, now=at).order.id
            orders.ship_order(UnitOfWork(engine), actor=seller, order_id=order_id, tracking=None,
                              settings=SETTINGS, now=at)
            orders.confirm_order(UnitOfWork(engine), actor=buyer, order_id=order_id,
                                 settings=SETTINGS, now=at)
            stars = 1 if j == 2 else 5  # seller2 disappoints everyone
            drafts = ((buyer, reviews.ReviewDraft(overall=stars, item_as_described=stars,
                                                  communication=stars, shipping_speed=stars)),
                      (seller, reviews.ReviewDraft(overall=5)))
            for actor, draft in drafts:
                reviews.submit_review(UnitOfWork(engine), actor=actor, order_id=order_id,
                                      draft=draft, settings=SETTINGS, now=at)
                count += 1
    return sellers, buyers, count


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(argv)
    return capsys.readouterr().out


def test_export_score_import_round_trip(
    engine: Engine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sellers, buyers, count = build_market(engine)
    out = tmp_path / "graph"
    said = run(["export", "ratings", "--out", str(out), "--rows-per-file", "20",
                "--rows-per-group", "10", "--db", database_url], capsys)
    assert f"wrote {count} ratings" in said
    files = sorted(out.glob("*.parquet"))
    groups = [pq.ParquetFile(f).metadata.row_group(i).num_rows for f in files
              for i in range(pq.ParquetFile(f).metadata.num_row_groups)]
    assert len(files) == 2 and groups == [10, 10, 10]
    table = pq.read_table(out)
    assert table.num_rows == count
    assert set(table.column_names) >= {"rater", "ratee", "rating", "timestamp", "value"}
    assert set(table.column("rater").to_pylist()) == {p.id for p in sellers + buyers}

    single = tmp_path / "all.parquet"
    pq.write_table(table, single)
    fraud, reputation = tmp_path / "fraud.csv", tmp_path / "reputation.csv"
    run(["score", str(single), "--out", str(fraud), "--ratees-out", str(reputation)], capsys)
    said = run(["import", "scores", str(fraud), "--ratees", str(reputation), "--db",
                database_url], capsys)
    assert "imported scores of 8 accounts" in said and "0 unknown" in said

    with fraud.open() as handle:
        expected = {r["account"]: float(r["fraud_score"]) for r in csv.DictReader(handle)}
    with reputation.open() as handle:
        reputations = {r["account"]: float(r["reputation"]) for r in csv.DictReader(handle)}
    for account in sellers + buyers:
        stored = imported_score(UnitOfWork(engine, read_only=True), account_id=account.id)
        assert stored is not None
        assert stored.fraud_score == pytest.approx(expected[account.id], abs=1e-12)
        assert stored.reputation == pytest.approx(reputations[account.id], abs=1e-12)
    good = imported_score(UnitOfWork(engine, read_only=True), account_id=sellers[0].id)
    bad = imported_score(UnitOfWork(engine, read_only=True), account_id=sellers[2].id)
    assert good is not None and bad is not None
    assert (good.reputation or 0.0) > (bad.reputation or 1.0)


def test_an_import_replaces_earlier_scores_and_refuses_bad_values(engine: Engine) -> None:
    seller = sign_up(UnitOfWork(engine), handle="seller", roles=frozenset({Role.seller}),
                     settings=SETTINGS, now=T0).account.principal
    first = import_scores(UnitOfWork(engine), run_id="r1", now=T0, scores=[
        ImportedScore(seller.id, 0.9, None), ImportedScore("nobody", 0.1, 0.5)])
    assert (first.imported, first.unknown_accounts) == (1, 1)
    import_scores(UnitOfWork(engine), run_id="r2", now=T0,
                  scores=[ImportedScore(seller.id, None, 0.25)])
    stored = imported_score(UnitOfWork(engine, read_only=True), account_id=seller.id)
    assert stored is not None
    assert (stored.fraud_score, stored.reputation, stored.run_id) == (None, 0.25, "r2")
    for bad, code in (([ImportedScore(seller.id, 1.5, None)], "score_outside_range"),
                      ([ImportedScore(seller.id, float("nan"), None)], "score_outside_range"),
                      ([ImportedScore("nobody", 0.5, None)], "scores_name_no_known_account"),
                      ([], "scores_empty")):
        with pytest.raises(Rejected) as caught:
            import_scores(UnitOfWork(engine), run_id="r3", now=T0, scores=bad)
        assert caught.value.code == code
    stored = imported_score(UnitOfWork(engine, read_only=True), account_id=seller.id)
    assert stored is not None and stored.run_id == "r2"


def test_exporting_an_empty_market_says_so(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["export", "ratings", "--out", str(tmp_path / "g"), "--db", database_url])
    assert "error: nothing_to_export" in capsys.readouterr().err


def test_export_refuses_a_directory_with_files_and_import_names_bad_files(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "old.parquet").write_text("x")
    with pytest.raises(SystemExit):
        main(["export", "ratings", "--out", str(taken), "--db", database_url])
    assert "error: output_not_empty" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    for text, code in (("account,score\na,0.5\n", "scores_missing_columns"),
                       ("account,fraud_score\na,0.5\na,0.7\n", "account_listed_twice"),
                       ("account,fraud_score\na,\n", "scores_have_missing_values")):
        bad.write_text(text)
        with pytest.raises(SystemExit):
            main(["import", "scores", str(bad), "--db", database_url])
        assert f"error: {code}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["import", "scores", str(tmp_path / "none.csv"), "--db", database_url])
    assert "error: scores_unreadable" in capsys.readouterr().err
