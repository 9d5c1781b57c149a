"""``bonafide keys``, ``bonafide liabilities`` and ``bonafide attest``: files in, files out,
offline checks, and one-line errors (``error: <code>: <message>``, exit 1)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bonafide.cli import main
from bonafide.market.accounts import Role
from bonafide.money import Money
from bonafide.service import accounts
from bonafide.service import ledger as ledger_service
from bonafide.settings import Settings
from bonafide.store.db import make_engine
from bonafide.store.migrate import upgrade
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def failed(result: tuple[int, str, str], code: str) -> None:
    status, _, err = result
    assert status == 1, result
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {code}: "), err


@pytest.fixture
def market(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key path in a temporary folder, for every command of the test."""
    monkeypatch.setenv("BONAFIDE_KEY_PATH", str(tmp_path / "keys" / "market.key"))
    monkeypatch.setenv("BONAFIDE_MARKET_ID", "mkt_cli")
    monkeypatch.setenv("BONAFIDE_MARKET_NAME", "CLI market")
    return tmp_path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def deposit(url: str, owner: str, value: int) -> None:
    engine = make_engine(url)
    try:
        ledger_service.deposit(UnitOfWork(engine), transfer_id=f"dep-{owner}-{value}",
                               owner_id=owner, amount=Money(value, "EUR"), now=NOW, actor="op")
    finally:
        engine.dispose()


def seller(url: str, handle: str) -> str:
    engine = make_engine(url)
    try:
        made = accounts.sign_up(UnitOfWork(engine), handle=handle,
                                roles=frozenset({Role.seller}),
                                settings=Settings(database_url=url), now=NOW)
    finally:
        engine.dispose()
    return made.account.principal.id


def test_publish_then_verify_a_proof_offline(
    database_url: str, market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deposit(database_url, "acc_ann", 1_234)
    deposit(database_url, "acc_bob", 5_000)
    out = market / "published"
    status, text, _ = run(["liabilities", "publish", "--db", database_url, "--out", str(out),
                           "--with-proofs"], capsys)
    assert status == 0, text
    assert "2 accounts" in text and "62.34 EUR" in text
    assert "warning: reserves_not_declared" in text
    proof, root = out / "proofs" / "acc_ann.json", out / "root.json"
    status, text, _ = run(["liabilities", "verify", str(proof), "--root", str(root)], capsys)
    assert status == 0, text
    assert "included: wallet:acc_ann holds 12.34 EUR of a 62.34 EUR total" in text
    assert "note: compare that key id" in text
    # With the market's keyring given explicitly.
    status, keyring, _ = run(["keys", "show"], capsys)
    (market / "well-known.json").write_text(keyring)
    status, text, _ = run(["liabilities", "verify", str(proof), "--root", str(root), "--key",
                           str(market / "well-known.json")], capsys)
    assert status == 0 and "given key" in text and "note:" not in text
    # A cooked balance, another market's key, a missing file: one line each, exit 1.
    cooked = json.loads(proof.read_text())
    cooked["proofs"][0]["balance"] = 100_000
    (market / "cooked.json").write_text(json.dumps(cooked))
    failed(run(["liabilities", "verify", str(market / "cooked.json"), "--root", str(root)],
               capsys), "root_total_mismatch")
    failed(run(["liabilities", "verify", str(proof), "--root", str(root), "--key",
                "A" * 43 + "="], capsys), "key_unknown")
    failed(run(["liabilities", "verify", str(market / "nope.json"), "--root", str(root)],
               capsys), "file_unreadable")
    (market / "garbage.json").write_text("{not json")
    failed(run(["liabilities", "verify", str(market / "garbage.json"), "--root", str(root)],
               capsys), "file_not_json")


def test_keys_init_show_and_rotate(market: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failed(run(["keys", "show"], capsys), "market_key_missing")
    status, text, _ = run(["keys", "init"], capsys)
    assert status == 0 and text.startswith("market mkt_cli (CLI market): key ")
    assert (market / "keys" / "market.key").stat().st_mode & 0o777 == 0o600
    time.sleep(1.05)  # a rotation retires the key at a later second than its start
    status, text, _ = run(["keys", "rotate"], capsys)
    assert status == 0 and text.startswith("new key ")
    document = json.loads(run(["keys", "show"], capsys)[1])
    assert document["market_id"] == "mkt_cli" and len(document["keys"]) == 2
    assert document["keys"][0]["valid_until"] is not None


def test_export_and_verify_an_attestation(
    sqlite_url: str, market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seller_id = seller(sqlite_url, "hana")
    file = market / "hana.json"
    status, _, err = run(["attest", "export", "--seller", seller_id, "--db", sqlite_url,
                          "--out", str(file), "--for-market", "mkt_other", "--for-account",
                          "acc_9"], capsys)
    assert status == 0, err
    status, text, _ = run(["attest", "verify", str(file)], capsys)
    assert status == 0, text
    assert text.startswith("ok: bonafide.seller_reputation by CLI market (mkt_cli)")
    assert "for: account acc_9 on mkt_other" in text
    failed(run(["attest", "verify", str(file), "--at", "2099-01-01T00:00:00Z"], capsys),
           "attestation_expired")
    tampered = file.read_bytes().replace(b'"verified_orders":0', b'"verified_orders":9')
    (market / "tampered.json").write_bytes(tampered)
    failed(run(["attest", "verify", str(market / "tampered.json")], capsys), "signature_invalid")
    (market / "cut.json").write_bytes(file.read_bytes()[:100])
    failed(run(["attest", "verify", str(market / "cut.json")], capsys), "document_truncated")
    (market / "pretty.json").write_text(json.dumps(json.loads(file.read_text()), indent=1))
    failed(run(["attest", "verify", str(market / "pretty.json")], capsys),
           "document_not_canonical")
    failed(run(["attest", "export", "--seller", seller_id, "--db", sqlite_url, "--for-market",
                "m"], capsys), "audience_incomplete")
    failed(run(["attest", "export", "--seller", "acc_nobody", "--db", sqlite_url], capsys),
           "seller_not_found")


def test_verify_against_another_markets_keyring_and_trust_it(
    sqlite_url: str, market: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller_id = seller(sqlite_url, "hana")
    file = market / "hana.json"
    assert run(["attest", "export", "--seller", seller_id, "--db", sqlite_url, "--out",
                str(file)], capsys)[0] == 0
    (market / "mine.json").write_text(run(["keys", "show"], capsys)[1])
    monkeypatch.setenv("BONAFIDE_KEY_PATH", str(market / "other" / "market.key"))
    monkeypatch.setenv("BONAFIDE_MARKET_ID", "mkt_other")
    assert run(["keys", "init"], capsys)[0] == 0
    (market / "other.json").write_text(run(["keys", "show"], capsys)[1])
    failed(run(["attest", "verify", str(file), "--well-known", str(market / "other.json")],
               capsys), "key_unknown")
    status, text, _ = run(["attest", "verify", str(file), "--well-known",
                           str(market / "mine.json")], capsys)
    assert status == 0, text
    status, text, _ = run(["attest", "trust", str(market / "mine.json"), "--db", sqlite_url],
                          capsys)
    assert status == 0 and text.startswith("trusted market mkt_cli (CLI market)")
    (market / "bad.json").write_text('{"market_id": "x"}')
    failed(run(["attest", "trust", str(market / "bad.json"), "--db", sqlite_url], capsys),
           "keyring_invalid")
    failed(run(["attest", "verify", str(file), "--keyring", str(market / "bad.json")], capsys),
           "keyring_invalid")


def test_a_lab_signs_a_claim_and_anyone_verifies_it(
    market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = market / "lab" / "lab.key"
    status, text, _ = run(["attest", "verifier-init", "--key-file", str(key_file), "--id",
                           "lab.example", "--name", "Example Lab"], capsys)
    assert status == 0 and text.startswith("verifier lab.example: key "), text
    report = market / "report.pdf"
    report.write_bytes(b"%PDF lab report")
    claim = market / "claim.json"
    status, _, err = run(["attest", "sign-claim", "--key-file", str(key_file), "--market",
                          "mkt_cli", "--listing", "lst_1", "--claim", "Raw honey", "--evidence",
                          str(report), "--description", "Report 118", "--verdict", "confirmed",
                          "--out", str(claim)], capsys)
    assert status == 0, err
    status, text, _ = run(["attest", "verify", str(claim), "--keyring",
                           str(market / "lab" / "lab.keyring.json")], capsys)
    assert status == 0, text
    assert "listing lst_1 on mkt_cli: confirmed: Raw honey" in text
    failed(run(["attest", "sign-claim", "--key-file", str(key_file), "--market", "mkt_cli",
                "--listing", "lst_1", "--claim", "x", "--evidence", str(report),
                "--description", "d", "--verdict", "maybe"], capsys),
           "claim_verification_invalid")


def test_verify_without_any_keyring_is_a_named_error(
    market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (market / "doc.json").write_text("{}")
    failed(run(["attest", "verify", str(market / "doc.json")], capsys), "keyring_required")
