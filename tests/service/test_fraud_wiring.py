"""The fraud engine inside the service: the scheduler refreshes scores after new reviews, flags
land in the moderation queue with their reasons, and moderators' decisions become labels."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fraud_market import Built, FraudMarket, built_market, copy_database, market_on
from sqlalchemy import Engine, select

from bonafide.attest.documents import seller_reputation_payload, sign_document
from bonafide.market.accounts import Principal, Role
from bonafide.market.moderation import ActionKind, Report, ReportState, TargetKind
from bonafide.market.orders import OrderState
from bonafide.money import Money
from bonafide.service import (
    attestations,
    fraud,
    keys,
    ledger,
    moderation,
    orders,
    reputation,
    scheduler,
)
from bonafide.service.accounts import grant_moderator_by_id, sign_up
from bonafide.service.listings import create_listing
from bonafide.settings import Settings
from bonafide.store.db import make_engine
from bonafide.store.scoring_tables import fraud_scores
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    database_url="sqlite://",
    ship_window=timedelta(days=2),
    release_window=timedelta(days=3),
    review_window=timedelta(days=5),
    score_interval=timedelta(hours=1),
)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The market, built once per backend for this module."""
    yield from built_market(request, tmp_path_factory.mktemp("fraud"), settings=SETTINGS, start=T0)


@pytest.fixture
def m(built: Built, tmp_path: Path) -> Iterator[FraudMarket]:
    """A copy of the built market for one test."""
    for url in copy_database(built, tmp_path):
        engine = make_engine(url)
        try:
            yield market_on(built, engine)
        finally:
            engine.dispose()


def _tick(m: FraudMarket, at: datetime) -> dict[str, int]:
    return scheduler.tick(m.new_uow, settings=SETTINGS, now=at)


def _queue(m: FraudMarket) -> dict[str, Report]:
    """Open reports filed by the engine, by the account they name."""
    found = moderation.list_reports(m.new_uow(), viewer=m.moderator, state=ReportState.OPEN,
                                    after=None, limit=100)
    engine_reports = [r for r in found if r.reporter_id == fraud.SYSTEM_REPORTER]
    assert all(r.target_kind is TargetKind.ACCOUNT for r in engine_reports)
    assert len({r.target_id for r in engine_reports}) == len(engine_reports), "no duplicates"
    return {r.target_id: r for r in engine_reports}


def _stored(m: FraudMarket, account: Principal) -> tuple[float | None, float | None, str]:
    with m.new_uow() as uow:
        row = uow.session.execute(
            select(fraud_scores).where(fraud_scores.c.account_id == account.id)).one()
    return row.fraud_score, row.reputation, row.run_id


def test_a_self_boosting_seller_is_queued_with_its_reasons_after_a_tick(m: FraudMarket) -> None:
    counts = _tick(m, m.reveal_at)
    assert counts["reviews_revealed"] > 0
    assert counts["scores_refreshed"] == 1 and counts["scoring_failed"] == 0
    queue = _queue(m)
    assert counts["fraud_reports_filed"] == len(queue)
    assert m.booster.id in queue
    assert "praise it received came from suspicious ratings" in queue[m.booster.id].reason
    assert {s.id for s in m.socks} <= set(queue)
    assert "share its device or payment fingerprint" in queue[m.socks[0].id].reason
    assert not {s.id for s in m.sellers} & set(queue), "honest sellers are not queued"
    score, reputation, run_id = _stored(m, m.booster)
    assert score is not None and score >= SETTINGS.fraud_flag_threshold
    assert reputation is not None and 0.0 <= reputation <= 1.0
    assert run_id.startswith("engine:")


def test_the_next_tick_neither_reruns_the_engine_nor_files_a_second_report(
    m: FraudMarket,
) -> None:
    first = _tick(m, m.reveal_at)
    queued = _queue(m)
    again = _tick(m, m.reveal_at + timedelta(minutes=1))
    assert again["scores_refreshed"] == 0 and again["fraud_reports_filed"] == 0
    assert fraud.refresh_scores(m.new_uow, settings=SETTINGS,
                                now=m.reveal_at + timedelta(minutes=2)).why == "up_to_date"
    later = _tick(m, m.reveal_at + SETTINGS.score_interval)
    assert later["scores_refreshed"] == 1, "the interval passed: the schedule re-runs it"
    assert later["fraud_reports_filed"] == 0
    assert _queue(m).keys() == queued.keys() and first["fraud_reports_filed"] == len(queued)
    last = fraud.last_run(m.new_uow())
    assert last is not None and last.ran_at == m.reveal_at + SETTINGS.score_interval
    # A new batch of reviews makes the next tick re-run it without waiting for the interval.
    m.clock[0] = last.ran_at
    m.trade(m.buyers[0], m.sellers[0], 5)
    fresh = _tick(m, m.reveal_at + timedelta(minutes=1))
    assert fresh["reviews_revealed"] == 1 and fresh["scores_refreshed"] == 1


def test_two_schedulers_at_once_queue_each_account_once(m: FraudMarket) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: _tick(m, m.reveal_at), range(2)))
    queue = _queue(m)  # asserts one open report per account
    assert m.booster.id in queue
    assert sum(r["fraud_reports_filed"] for r in results) == len(queue)
    assert sum(r["scoring_failed"] for r in results) == 0


def test_a_suspension_becomes_a_bad_label_and_a_dismissal_a_good_one(m: FraudMarket) -> None:
    _tick(m, m.reveal_at)
    queue = _queue(m)
    sock = m.socks[0]
    honest = m.buyers[0]  # rated the booster 2 stars: ordinary, not flagged
    assert honest.id not in queue
    honest_before, _, _ = _stored(m, honest)
    _, booster_before, _ = _stored(m, m.booster)
    assert honest_before is not None and 0.0 < honest_before < 1.0
    at = m.reveal_at + timedelta(minutes=5)
    moderation.take_action(m.new_uow(), moderator=m.moderator, kind=ActionKind.DISMISS_REPORT,
                           reason="known customer", report_id=queue[sock.id].id,
                           target_kind=None, target_id=None, now=at)
    report = moderation.file_report(m.new_uow(), reporter=m.buyers[5],
                                    target_kind=TargetKind.ACCOUNT, target_id=honest.id,
                                    reason="spam", now=at)
    moderation.take_action(m.new_uow(), moderator=m.moderator, kind=ActionKind.SUSPEND_ACCOUNT,
                           reason="spam", report_id=report.id, target_kind=None, target_id=None,
                           now=at)
    counts = _tick(m, at + timedelta(minutes=1))
    assert counts["scores_refreshed"] == 1, "a decision is a new input: the engine re-runs"
    assert counts["fraud_reports_filed"] == 0, "decided accounts are not queued again"
    assert _stored(m, honest)[0] == 1.0, "suspended: known bad"
    assert _stored(m, sock)[0] == 0.0, "dismissed: known good"
    _, booster_after, _ = _stored(m, m.booster)
    assert booster_before is not None and booster_after is not None
    # The known-bad buyer's 2 stars no longer count and a cleared sock's 5 stars now do.
    assert booster_after > booster_before
    assert sock.id not in _queue(m)


def test_an_appeal_granted_turns_a_bad_label_good(m: FraudMarket) -> None:
    _tick(m, m.reveal_at)
    at = m.reveal_at + timedelta(minutes=5)
    second = grant_moderator_by_id(m.new_uow(), account_id=m.buyers[6].id, now=at).principal
    buyer = m.buyers[1]
    action = moderation.take_action(m.new_uow(), moderator=m.moderator,
                                    kind=ActionKind.SUSPEND_ACCOUNT, reason="looks fake",
                                    report_id=None, target_kind=TargetKind.ACCOUNT,
                                    target_id=buyer.id, now=at)
    _tick(m, at + timedelta(minutes=1))
    assert _stored(m, buyer)[0] == 1.0
    appeal = moderation.file_appeal(m.new_uow(), appellant=buyer, action_id=action.id,
                                    text="I am real", now=at + timedelta(minutes=2))
    moderation.decide_appeal(m.new_uow(), moderator=second, appeal_id=appeal.id, overturn=True,
                             reason="real buyer", now=at + timedelta(minutes=3))
    _tick(m, at + timedelta(minutes=4))
    assert _stored(m, buyer)[0] == 0.0


def test_a_failing_engine_does_not_stop_order_timeouts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def new_uow() -> UnitOfWork:
        return UnitOfWork(engine)

    buyer = sign_up(new_uow(), handle="bob", roles=frozenset({Role.buyer}), settings=SETTINGS,
                    now=T0).account.principal
    seller = sign_up(new_uow(), handle="sam", roles=frozenset({Role.seller}), settings=SETTINGS,
                     now=T0).account.principal
    ledger.deposit(new_uow(), transfer_id="d", owner_id=buyer.id, amount=Money(5_000, "EUR"),
                   now=T0, actor="test")
    listing = create_listing(new_uow(), seller=seller, title="Tea", description="",
                             price=Money(1_000, "EUR"), stock=3, settings=SETTINGS, now=T0)
    order = orders.place_order(new_uow(), buyer=buyer, listing_id=listing.id, quantity=1,
                               settings=SETTINGS, now=T0).order

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(fraud, "refresh_scores", broken)
    counts = scheduler.tick(new_uow, settings=SETTINGS, now=T0 + timedelta(days=3))
    assert counts["auto_cancelled"] == 1 and counts["scoring_failed"] == 1
    assert counts["scores_refreshed"] == 0
    after = orders.get_order(new_uow(), viewer=buyer, order_id=order.id).order
    assert after.state is OrderState.CANCELLED


def test_imported_evidence_moves_a_new_sellers_score_at_its_reduced_weight(
    engine: Engine, tmp_path: Path
) -> None:
    home = Settings(database_url="sqlite://", key_path=tmp_path / "home" / "market.key",
                    market_id="mkt_home", market_name="Home")
    away = Settings(database_url="sqlite://", key_path=tmp_path / "away" / "market.key",
                    market_id="mkt_away", market_name="Away")
    seller = sign_up(UnitOfWork(engine), handle="hana", roles=frozenset({Role.seller}),
                     settings=home, now=T0).account.principal
    before = reputation.seller_reputation(UnitOfWork(engine), seller_id=seller.id, now=T0)
    identity = keys.load_or_create(away, now=T0)
    attestations.trust_issuer(UnitOfWork(engine), document=keys.well_known(away, now=T0),
                              added_by="test", now=T0)
    payload = seller_reputation_payload(
        issuer_id="mkt_away", issuer_name="Away", attestation_id="att_1", seller_id="acc_away",
        handle="hana", period_from=T0 - timedelta(days=400), period_until=T0,
        verified_orders=400, disputes=0, refunds=0, score_bp=9_900, verified_reviews=300,
        method="engine_default", issued_at=T0, expires_at=T0 + timedelta(days=90),
        audience=("mkt_home", seller.id))
    document = sign_document(payload, key=identity.signing_key)
    attestations.import_seller_attestation(UnitOfWork(engine), viewer=seller, document=document,
                                           settings=home, now=T0, seller_id=None)
    after = reputation.seller_reputation(UnitOfWork(engine), seller_id=seller.id, now=T0)
    assert after.imported_orders == 100, "400 orders at 25 %"
    assert after.score > before.score and after.low > before.low
    assert after.low <= after.score <= after.high
    step = {f.name: f.effect for f in after.breakdown}
    assert step["imported_evidence"] > 0
    assert sum(step.values()) == pytest.approx(after.score)
