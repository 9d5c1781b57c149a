"""Proof of liabilities on a real database: publish, prove, check offline, reserves, and a
snapshot that stays consistent while money moves."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, and_, or_, select, text

from bonafide.attest.keys import SigningKey
from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ledger import AccountKind, TransferSpec
from bonafide.market.accounts import AccountStatus, Principal, Role
from bonafide.money import Money
from bonafide.service import keys, liabilities
from bonafide.service import ledger as ledger_service
from bonafide.settings import Settings
from bonafide.store.attest_repo import LiabilityRepository
from bonafide.store.attest_tables import liability_leaves
from bonafide.store.ledger_tables import ledger_accounts, ledger_journal
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, key_path=tmp_path / "keys" / "market.key",
                    market_id="mkt_test", market_name="Test market")


def person(id_: str, *roles: Role) -> Principal:
    return Principal(id_, id_.replace("_", "-"), frozenset(roles or {Role.buyer}),
                     AccountStatus.active)


OPERATOR = person("op_1", Role.operator)


def deposit(engine: Engine, owner: str, value: int, currency: str = "EUR") -> None:
    ledger_service.deposit(
        UnitOfWork(engine), transfer_id=f"dep-{owner}-{currency}-{value}-{os.urandom(4).hex()}",
        owner_id=owner, amount=Money(value, currency), now=NOW, actor="op",
    )


def publish(engine: Engine, settings: Settings, now: datetime = NOW) -> liabilities.Published:
    return liabilities.publish(UnitOfWork(engine), read_uow=UnitOfWork(engine, read_only=True),
                               settings=settings, now=now, published_by="test")


def test_publish_signs_one_root_per_currency_over_wallets_and_escrow(
    engine: Engine, settings: Settings
) -> None:
    deposit(engine, "acc_ann", 5_000)
    deposit(engine, "acc_bob", 1_999)
    deposit(engine, "acc_bob", 700, "USD")
    published = publish(engine, settings)
    assert {r.currency: r.total for r in published.roots} == {"EUR": 6_999, "USD": 700}
    assert published.accounts == 3, "external accounts are not liabilities"
    view = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    assert view.snapshot_id == published.snapshot_id
    body = view.to_json()
    assert body["document"]["payload"]["accounts"] == ["escrow", "wallet"]
    assert body["document"]["payload"]["ledger"]["entries"] == 3
    assert body["keyring"]["market_id"] == "mkt_test"
    assert {w["code"] for w in body["warnings"]} == {"reserves_not_declared"}


def test_an_owner_proves_inclusion_offline_with_the_root_file(
    engine: Engine, settings: Settings
) -> None:
    for i in range(7):
        deposit(engine, f"acc_{i}", 100 * (i + 1))
    deposit(engine, "acc_3", 55, "USD")
    publish(engine, settings)
    root = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    bundle = liabilities.owner_proofs(UnitOfWork(engine, read_only=True),
                                      viewer=person("acc_3"), account_id="acc_3")
    assert [(p.currency, p.account, p.balance) for p in bundle.proofs] == [
        ("EUR", "wallet:acc_3", 400), ("USD", "wallet:acc_3", 55)]
    # Through JSON files, as a user would hold them.
    root_file = json.loads(json.dumps(root.to_json()))
    proof_file = json.loads(json.dumps(bundle.to_json()))
    checked = liabilities.check_offline(root=root_file, proof=proof_file, key=None, now=NOW)
    assert [(o.account, o.balance, o.total) for o in checked.outcomes] == [
        ("wallet:acc_3", 400, 2_800), ("wallet:acc_3", 55, 55)]
    assert checked.key_source == "keyring inside ROOT.json"
    # With the market's published keyring given explicitly, and with a bare public key.
    keyring = keys.well_known(settings, now=NOW)
    assert liabilities.check_offline(root=root_file, proof=proof_file, key=keyring, now=NOW)
    public = keyring["keys"][0]["public_key"]
    assert liabilities.check_offline(root=root_file["document"], proof=proof_file, key=public,
                                     now=NOW).key_source == "given key"


def test_offline_checks_name_what_fails(engine: Engine, settings: Settings) -> None:
    deposit(engine, "acc_a", 100)
    deposit(engine, "acc_b", 200)
    publish(engine, settings)
    root = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings,
                                   now=NOW).to_json()
    proof = liabilities.owner_proofs(UnitOfWork(engine, read_only=True),
                                     viewer=person("acc_a"), account_id="acc_a").to_json()

    def fails(code: str, *, root: object = root, proof: object = proof, key: object = None
              ) -> None:
        with pytest.raises(Rejected) as caught:
            liabilities.check_offline(root=root, proof=proof, key=key, now=NOW)
        assert caught.value.code == code

    cooked = json.loads(json.dumps(proof))
    cooked["proofs"][0]["balance"] = 150
    fails("root_total_mismatch", proof=cooked)
    inflated = json.loads(json.dumps(proof))
    inflated["proofs"][0]["path"][0]["sum"] += 1
    fails("root_total_mismatch", proof=inflated)
    other_root = json.loads(json.dumps(root))
    other_root["document"]["payload"]["roots"][0]["total"] = 1_000_000
    fails("signature_invalid", root=other_root)
    fails("key_unknown", key=base64.b64encode(SigningKey(b"\x07" * 32).public_key).decode())
    fails("proof_for_another_snapshot", proof={**proof, "snapshot_id": "lsn_other"})
    fails("key_required", root=root["document"])
    fails("proof_malformed", proof={"proofs": []})


def test_proofs_are_for_their_owner_only(engine: Engine, settings: Settings) -> None:
    deposit(engine, "acc_a", 100)
    publish(engine, settings)
    with pytest.raises(Forbidden, match="proof_owner_only"):
        liabilities.owner_proofs(UnitOfWork(engine, read_only=True), viewer=person("acc_b"),
                                 account_id="acc_a")
    with pytest.raises(Forbidden, match="proof_owner_only"):
        liabilities.owner_proofs(UnitOfWork(engine, read_only=True), viewer=OPERATOR,
                                 account_id="acc_a")
    with pytest.raises(NotFound, match="snapshot_not_found"):
        liabilities.owner_proofs(UnitOfWork(engine, read_only=True), viewer=person("acc_a"),
                                 account_id="acc_a", snapshot_id="lsn_nope")
    empty = liabilities.owner_proofs(UnitOfWork(engine, read_only=True),
                                     viewer=person("acc_new"), account_id="acc_new")
    assert empty.proofs == ()


def test_nothing_published_yet_is_a_named_not_found(engine: Engine, settings: Settings) -> None:
    with pytest.raises(NotFound, match="liabilities_not_published"):
        liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    with pytest.raises(NotFound, match="liabilities_not_published"):
        liabilities.owner_proofs(UnitOfWork(engine, read_only=True), viewer=person("acc_a"),
                                 account_id="acc_a")


def test_an_empty_ledger_publishes_an_empty_root(engine: Engine, settings: Settings) -> None:
    published = publish(engine, settings)
    assert published.roots == () and published.accounts == 0


def test_proofs_are_rebuilt_from_stored_leaves_after_a_restart(
    engine: Engine, settings: Settings
) -> None:
    for i in range(5):
        deposit(engine, f"acc_{i}", 10 + i)
    published = publish(engine, settings)
    liabilities._trees.clear()  # as if the process restarted
    bundle = liabilities.owner_proofs(UnitOfWork(engine, read_only=True),
                                      viewer=person("acc_2"), account_id="acc_2",
                                      snapshot_id=published.snapshot_id)
    root = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    assert liabilities.check_offline(root=root.to_json(), proof=bundle.to_json(), key=None,
                                     now=NOW).outcomes[0].balance == 12
    everyone = liabilities.all_proofs(UnitOfWork(engine, read_only=True),
                                      snapshot_id=published.snapshot_id)
    assert sorted(everyone) == [f"acc_{i}" for i in range(5)]


def test_reserves_are_compared_with_liabilities(engine: Engine, settings: Settings) -> None:
    deposit(engine, "acc_a", 1_000)
    deposit(engine, "acc_a", 50, "USD")
    publish(engine, settings)
    liabilities.declare_reserves(UnitOfWork(engine), actor=OPERATOR, amount=Money(1_200, "EUR"),
                                 note="bank statement 2026-02", now=NOW)
    liabilities.declare_reserves(UnitOfWork(engine), actor=OPERATOR, amount=Money(10, "USD"),
                                 note="", now=NOW)
    view = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    assert {c.currency: c.status for c in view.coverage} == {
        "EUR": "covered", "USD": "reserves_below_liabilities"}
    assert [w["currency"] for w in view.warnings] == ["USD"]
    liabilities.declare_reserves(UnitOfWork(engine), actor=OPERATOR, amount=Money(900, "EUR"),
                                 note="later", now=NOW + timedelta(days=1))
    view = liabilities.latest_root(UnitOfWork(engine, read_only=True), settings=settings, now=NOW)
    assert {c.currency: (c.reserves, c.status) for c in view.coverage}["EUR"] == (
        900, "reserves_below_liabilities")


def test_only_an_operator_declares_reserves(engine: Engine) -> None:
    with pytest.raises(Forbidden, match="role_required"):
        liabilities.declare_reserves(UnitOfWork(engine), actor=person("acc_a", Role.seller),
                                     amount=Money(1, "EUR"), note="", now=NOW)
    with pytest.raises(Rejected, match="reserves_must_not_be_negative"):
        liabilities.declare_reserves(UnitOfWork(engine), actor=OPERATOR,
                                     amount=Money(-1, "EUR"), note="", now=NOW)
    with pytest.raises(Rejected, match="note_too_long"):
        liabilities.declare_reserves(UnitOfWork(engine), actor=OPERATOR,
                                     amount=Money(1, "EUR"), note="x" * 501, now=NOW)


def _replayed_liabilities(
    engine: Engine, heads: tuple[tuple[int, int, str], ...]
) -> dict[str, int]:
    """Wallet balances re-derived from the journal entries up to the chains' ``heads`` (single
    transfers only): exactly the entries the snapshot saw."""
    a, j = ledger_accounts.c, ledger_journal.c
    if "lane" in j:  # the journal is chained in lanes; each head closes one lane
        seen = or_(*(and_(j.lane == chain, j.lane_sequence <= number)
                     for chain, number, _ in heads))
    else:
        [(_, number, _)] = heads
        seen = j.sequence <= number
    with engine.connect() as c:
        owners = dict(c.execute(select(a.id, a.owner_id).where(a.kind == "wallet")).all())
        balances: dict[str, int] = {}
        for debit, credit, amount in c.execute(
            select(j.debit_account_id, j.credit_account_id, j.amount).where(seen)
        ):
            if credit in owners:
                balances[owners[credit]] = balances.get(owners[credit], 0) + amount
            if debit in owners:
                balances[owners[debit]] = balances.get(owners[debit], 0) - amount
    return balances


def test_a_snapshot_taken_while_money_moves_is_one_point_of_the_ledger(
    engine: Engine, settings: Settings
) -> None:
    owners = [f"acc_{i}" for i in range(12)]
    for owner in owners:
        deposit(engine, owner, 10_000)
    wallets = {}
    uow = UnitOfWork(engine)
    with uow:
        for owner in owners:
            wallets[owner] = ledger_service.account_for(uow, kind=AccountKind.WALLET,
                                                        currency="EUR", owner_id=owner)
        uow.commit()
    stop = threading.Event()
    errors: list[BaseException] = []

    def shuffle(worker: int) -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                a, b = owners[(n + worker) % 12], owners[(n * 5 + worker + 1) % 12]
                if a == b:
                    continue
                batch = [TransferSpec(id=f"mv-{worker}-{n}", debit_account_id=wallets[a],
                                      credit_account_id=wallets[b], amount=Money(7, "EUR"))]
                if n % 3 == 0:  # deposits change the total, so a torn read would show
                    batch.append(TransferSpec(
                        id=f"in-{worker}-{n}", debit_account_id=external,
                        credit_account_id=wallets[b], amount=Money(1, "EUR")))
                u = UnitOfWork(engine)
                with u:
                    ledger_service.execute(u, batch, now=NOW)
                    u.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    u = UnitOfWork(engine)
    with u:
        external = ledger_service.account_for(u, kind=AccountKind.EXTERNAL, currency="EUR")
        u.commit()
    threads = [threading.Thread(target=shuffle, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    try:
        published = [publish(engine, settings, NOW + timedelta(seconds=i)) for i in range(4)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert published[-1].ledger_entries > published[0].ledger_entries, "money moved meanwhile"
    for snap in published:
        replayed = _replayed_liabilities(engine, snap.ledger_heads)
        with engine.connect() as c:
            leaves = dict(c.execute(
                select(liability_leaves.c.account, liability_leaves.c.balance)
                .where(liability_leaves.c.snapshot_id == snap.snapshot_id)).all())
        assert leaves == {f"wallet:{o}": v for o, v in replayed.items()}
        assert snap.roots[0].total == sum(replayed.values())


def test_the_key_is_made_once_with_owner_only_permissions_and_rotates(
    settings: Settings
) -> None:
    first = keys.load_or_create(settings, now=NOW)
    assert stat.S_IMODE(settings.key_path.stat().st_mode) == 0o600
    assert keys.load_or_create(settings, now=NOW + timedelta(days=1)).signing_key.key_id == (
        first.signing_key.key_id)
    rotated = keys.rotate(settings, now=NOW + timedelta(days=2))
    assert rotated.signing_key.key_id != first.signing_key.key_id
    document = keys.well_known(settings, now=NOW)
    assert [k["valid_until"] for k in document["keys"]] == ["2026-03-03T12:00:00Z", None]
    assert keys.load(settings).signing_key.key_id == rotated.signing_key.key_id
    assert stat.S_IMODE(settings.key_path.stat().st_mode) == 0o600


def test_a_key_file_others_may_read_is_refused(settings: Settings) -> None:
    keys.load_or_create(settings, now=NOW)
    os.chmod(settings.key_path, 0o644)
    with pytest.raises(Rejected, match="key_file_permissions_too_open"):
        keys.load(settings)


def test_a_key_file_that_does_not_match_the_keyring_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    keys.load_or_create(settings, now=NOW)
    other = Settings(database_url=settings.database_url, key_path=tmp_path / "other.key")
    keys.load_or_create(other, now=NOW)
    settings.key_path.write_bytes(other.key_path.read_bytes())
    with pytest.raises(Exception, match="market_key_mismatch"):
        keys.load(settings)
    with pytest.raises(NotFound, match="market_key_missing"):
        keys.load(Settings(key_path=tmp_path / "none.key"))


def test_the_configured_market_id_must_match_the_keyring(settings: Settings) -> None:
    keys.load_or_create(settings, now=NOW)
    moved = Settings(database_url=settings.database_url, key_path=settings.key_path,
                     market_id="mkt_other")
    with pytest.raises(Exception, match="market_id_mismatch"):
        keys.load(moved)


def test_two_threads_starting_at_once_make_one_key(settings: Settings) -> None:
    made: list[str] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        made.append(keys.load_or_create(settings, now=NOW).signing_key.key_id)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 1


def test_the_snapshot_read_is_one_repeatable_read_transaction(engine: Engine) -> None:
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        repo = uow.repo(LiabilityRepository)
        repo.begin_snapshot()
        if engine.dialect.name == "postgresql":
            level = uow.session.execute(text("SHOW transaction_isolation")).scalar_one()
            assert level == "repeatable read"
        before = repo.ledger_heads()
        deposit(engine, "acc_late", 5)  # commits meanwhile, in another transaction
        assert repo.ledger_heads() == before, "the snapshot does not see later commits"
        assert list(repo.liability_accounts(["wallet"])) == []
