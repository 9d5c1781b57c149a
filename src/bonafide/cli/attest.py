"""CLI commands ``bonafide keys ...``, ``bonafide liabilities ...`` and ``bonafide attest ...``.

Owns: reading and writing the files users and other markets exchange (ROOT.json, PROOF.json,
attestations, keyring documents) and printing what a check found. Imports: ``bonafide.bootstrap``,
``bonafide.service.{keys,liabilities,attestations}``, ``bonafide.attest``, ``bonafide.settings``
and typer; never ``bonafide.store`` or SQLAlchemy.

The verify commands are offline: they read files and check signatures and proofs; they open no
database and call no server. Failures print ``error: <reason>: <detail>`` and exit 1.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bonafide.attest.canonical import CanonicalError
from bonafide.attest.documents import (
    VERDICTS,
    claim_verification_payload,
    sign_document,
    verify_document,
)
from bonafide.attest.keys import Keyring, KeyringError, format_time, parse_time
from bonafide.bootstrap import Container, connect
from bonafide.cli.app import app
from bonafide.errors import Rejected
from bonafide.ids import new_id
from bonafide.service import attestations, keys, liabilities
from bonafide.settings import Settings, parse_duration

FILE_BYTES_MAX = 16 * 1024 * 1024
"""Limit on any file these commands read (a proof bundle of many accounts is the largest)."""

keys_app = typer.Typer(help="The market's Ed25519 signing key: make, show, rotate.",
                       no_args_is_help=True)
liabilities_app = typer.Typer(help="Proof of liabilities: publish a signed root, verify a proof.",
                              no_args_is_help=True)
attest_app = typer.Typer(help="Signed attestations: export, verify, trust, sign claims.",
                         no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(liabilities_app, name="liabilities")
app.add_typer(attest_app, name="attest")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Check as of this time (YYYY-MM-DDTHH:MM:SSZ); default now."),
]


def _settings(db: str | None = None) -> Settings:
    return Settings(database_url=db) if db else Settings()


def _connect(db: str | None) -> Container:
    return connect(_settings(db))


def _now(at: str | None = None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        return parse_time(at)
    except KeyringError as error:
        raise Rejected(error.reason, error.detail) from None


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(FILE_BYTES_MAX + 1)
    except OSError as error:
        raise Rejected("file_unreadable", f"{path}: {error.strerror}") from None
    if len(data) > FILE_BYTES_MAX:
        raise Rejected("file_too_large", f"{path} is larger than {FILE_BYTES_MAX} bytes")
    return data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Rejected("file_not_json", f"{path}: {error}") from None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _pretty(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


# --- keys -------------------------------------------------------------------------------------
@keys_app.command("init")
def keys_init() -> None:
    """Make the market's key (at BONAFIDE_KEY_PATH) if there is none, and print its id."""
    identity = keys.load_or_create(_settings(), now=_now())
    typer.echo(f"market {identity.market_id} ({identity.name}): key {identity.signing_key.key_id}")


@keys_app.command("show")
def keys_show() -> None:
    """Print the keyring document served at /.well-known/bonafide-market.json."""
    typer.echo(_pretty(keys.load(_settings()).keyring.to_document()).decode(), nl=False)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Retire the current key now and make a new one; old public keys stay listed."""
    identity = keys.rotate(_settings(), now=_now())
    retired = [k.key_id for k in identity.keyring.keys if k.valid_until is not None]
    typer.echo(f"new key {identity.signing_key.key_id}; retired: {', '.join(retired)}")


# --- liabilities ------------------------------------------------------------------------------
@liabilities_app.command("publish")
def liabilities_publish(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write root.json here.")] = None,
    with_proofs: Annotated[
        bool, typer.Option("--with-proofs", help="Also write proofs/<account id>.json per owner.")
    ] = False,
) -> None:
    """Snapshot the ledger in one read, build the Merkle sum trees and sign the root."""
    container = _connect(db)
    try:
        now = container.clock.now()
        published = liabilities.publish(
            container.uow(), read_uow=container.uow(read_only=True),
            settings=container.settings, now=now, published_by="cli",
        )
        view = liabilities.latest_root(container.uow(read_only=True),
                                       settings=container.settings, now=now)
        bundles = (liabilities.all_proofs(container.uow(read_only=True),
                                          snapshot_id=published.snapshot_id)
                   if out is not None and with_proofs else {})
    finally:
        container.close()
    totals = ", ".join(liabilities.format_amount(r.total, r.currency) for r in published.roots)
    typer.echo(f"published {published.snapshot_id}: {published.accounts} accounts after "
               f"{published.ledger_entries} journal entries; liabilities {totals or 'none'}")
    for warning in view.warnings:
        typer.echo(f"warning: {warning['code']}: {warning['detail']}")
    if out is not None:
        _write(out / "root.json", _pretty(view.to_json()))
        for owner, bundle in bundles.items():
            _write(out / "proofs" / f"{owner}.json", _pretty(bundle.to_json()))
        typer.echo(f"wrote {out / 'root.json'}" + (f" and {len(bundles)} proof files"
                                                   if with_proofs else ""))


@liabilities_app.command("verify")
def liabilities_verify(
    proof: Annotated[Path, typer.Argument(help="PROOF.json (from the proof route or --out).")],
    root: Annotated[Path, typer.Option("--root", help="ROOT.json (GET /v1/liabilities).")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The market's keyring file (/.well-known/bonafide-market.json)"
                     " or its base64 public key; default: the keyring inside ROOT.json."),
    ] = None,
    at: AtOption = None,
) -> None:
    """Check offline that your balance is counted in the market's signed liabilities root."""
    key_value: object | None = None
    if key is not None:
        key_path = Path(key)
        key_value = _read_json(key_path) if key_path.exists() else key
    checked = liabilities.check_offline(root=_read_json(root), proof=_read_json(proof),
                                        key=key_value, now=_now(at))
    typer.echo(f"root ok: snapshot {checked.snapshot_id} of {checked.issuer_name} "
               f"({checked.issuer_id}), issued {checked.issued_at}, signed by key "
               f"{checked.key_id} ({checked.key_source})")
    if key is None:
        typer.echo("note: compare that key id with the market's /.well-known/bonafide-market.json"
                   " (or pass --key): the key in ROOT.json only proves the file is intact")
    for outcome in checked.outcomes:
        typer.echo(f"included: {outcome.account} holds "
                   f"{liabilities.format_amount(outcome.balance, outcome.currency)} of a "
                   f"{liabilities.format_amount(outcome.total, outcome.currency)} total")


# --- attestations -----------------------------------------------------------------------------
@attest_app.command("export")
def attest_export(
    seller: Annotated[str, typer.Option("--seller", help="The seller's account id.")],
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")]
    = None,
    for_market: Annotated[str | None, typer.Option(
        "--for-market", help="Audience: the market the seller takes this to.")] = None,
    for_account: Annotated[str | None, typer.Option(
        "--for-account", help="Audience: the seller's account id on that market.")] = None,
    db: DbOption = None,
) -> None:
    """Sign this market's reputation summary of a seller (canonical JSON; keep it as is)."""
    if (for_market is None) != (for_account is None):
        raise Rejected("audience_incomplete", "give both --for-market and --for-account")
    audience = None if for_market is None or for_account is None else (for_market, for_account)
    container = _connect(db)
    try:
        document = attestations.export_seller(
            container.uow(read_only=True), settings=container.settings, seller_id=seller,
            now=container.clock.now(), audience=audience)
    finally:
        container.close()
    if out is None:
        typer.echo(document.decode("utf-8"))
    else:
        _write(out, document + b"\n")
        typer.echo(f"wrote {out}", err=True)


def _keyrings(paths: list[Path]) -> list[Keyring]:
    found = []
    for path in paths:
        value = _read_json(path)
        if isinstance(value, dict) and "keyring" in value:  # a ROOT.json bundle
            value = value["keyring"]
        try:
            found.append(Keyring.from_document(value))
        except KeyringError as error:
            raise Rejected(error.reason, f"{path}: {error.detail}") from None
    return found


@attest_app.command("verify")
def attest_verify(
    file: Annotated[Path, typer.Argument(help="The signed attestation.")],
    keyring: Annotated[list[Path] | None, typer.Option(
        "--keyring", help="A keyring document of an issuer you trust (repeatable).")] = None,
    well_known: Annotated[list[Path] | None, typer.Option(
        "--well-known", help="A market's /.well-known/bonafide-market.json (repeatable).")]
    = None,
    at: AtOption = None,
) -> None:
    """Check an attestation offline against the keyrings given (default: this market's own)."""
    paths = [*(keyring or []), *(well_known or [])]
    if paths:
        rings = _keyrings(paths)
    else:
        own = keys.keyring_path(_settings())
        if not own.exists():
            raise Rejected("keyring_required", "give --keyring or --well-known of the issuer")
        rings = _keyrings([own])
    result = verify_document(_read(file), keyrings=rings, now=_now(at))
    if not result.ok:
        raise Rejected(result.reason.value, result.detail)
    assert result.payload is not None and result.key is not None
    typer.echo(_describe(result.payload, key_id=result.key.key_id))


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d} %"


def _describe(p: dict[str, Any], *, key_id: str) -> str:
    head = (f"ok: {p['type']} by {p['issuer']['name']} ({p['issuer']['id']}), key {key_id}, "
            f"issued {p['issued_at']}")
    if "expires_at" in p:
        head += f", expires {p['expires_at']}"
    if p["type"] == "bonafide.seller_reputation":
        audience = p["audience"]
        return (f"{head}\nseller {p['subject']['handle']} ({p['subject']['seller_id']}): "
                f"{p['verified_orders']} verified orders, {p['disputes']} disputed "
                f"({_percent(p['dispute_rate_bp'])}), {p['refunds']} refunded "
                f"({_percent(p['refund_rate_bp'])}), score {_percent(p['score']['value_bp'])} "
                f"from {p['score']['verified_reviews']} reviews ({p['score']['method']})\n"
                f"for: " + ("anyone (no audience)" if audience is None else
                            f"account {audience['account_id']} on {audience['market_id']}"))
    if p["type"] == "bonafide.claim_verification":
        return (f"{head}\nlisting {p['listing']['listing_id']} on {p['listing']['market_id']}: "
                f"{p['verdict']}: {p['claim']}\nevidence sha256 {p['evidence']['sha256']} "
                f"({p['evidence']['description']})")
    return head


@attest_app.command("trust")
def attest_trust(
    file: Annotated[Path, typer.Argument(help="A keyring document (/.well-known/...json).")],
    db: DbOption = None,
) -> None:
    """Trust another market's (or a verifier's) keys for imports and claim verifications."""
    container = _connect(db)
    try:
        keyring, created = attestations.trust_issuer(
            container.uow(), document=_read_json(file), added_by="cli",
            now=container.clock.now())
    finally:
        container.close()
    typer.echo(f"{'trusted' if created else 'updated'} {keyring.kind} {keyring.issuer_id} "
               f"({keyring.name}) with {len(keyring.keys)} key(s)")


@attest_app.command("verifier-init")
def attest_verifier_init(
    key_file: Annotated[Path, typer.Option("--key-file", help="Where to keep the private key.")],
    verifier_id: Annotated[str, typer.Option("--id", help="The verifier's id, e.g. lab.example")],
    name: Annotated[str, typer.Option("--name", help="The verifier's name.")],
) -> None:
    """For a third party (a lab): make a signing key and its keyring document beside it."""
    identity = keys.load_or_create(
        Settings(key_path=key_file, market_id=verifier_id, market_name=name), now=_now(),
        kind="verifier")
    typer.echo(f"verifier {identity.market_id}: key {identity.signing_key.key_id}; give "
               f"{keys.keyring_path(Settings(key_path=key_file))} to the markets that trust you")


@attest_app.command("sign-claim")
def attest_sign_claim(
    key_file: Annotated[Path, typer.Option("--key-file", help="The verifier's key file.")],
    market: Annotated[str, typer.Option("--market", help="The listing's market id.")],
    listing: Annotated[str, typer.Option("--listing", help="The listing id.")],
    claim: Annotated[str, typer.Option("--claim", help="The claim checked, as the listing says.")],
    evidence: Annotated[Path, typer.Option("--evidence", help="The report file (hashed).")],
    description: Annotated[str, typer.Option("--description", help="What the evidence is.")],
    verdict: Annotated[str, typer.Option("--verdict", help=" | ".join(VERDICTS))],
    valid: Annotated[str, typer.Option("--valid", help="How long it holds, e.g. 180d.")] = "180d",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")]
    = None,
) -> None:
    """For a third party (a lab): sign a verification of one listing's claim."""
    ring = keys.keyring_path(Settings(key_path=key_file))
    keyring = _keyrings([ring])[0]
    identity = keys.load(Settings(key_path=key_file, market_id=keyring.issuer_id))
    now = _now()
    try:
        payload = claim_verification_payload(
            issuer_id=identity.market_id, issuer_name=identity.name,
            attestation_id=new_id("clm", now=now), market_id=market, listing_id=listing,
            claim=claim, evidence_sha256=hashlib.sha256(_read(evidence)).hexdigest(),
            evidence_description=description, verdict=verdict, issued_at=now,
            expires_at=now + parse_duration(valid),
        )
        document = sign_document(payload, key=identity.signing_key)
    except (ValueError, CanonicalError) as error:
        raise Rejected("claim_verification_invalid", str(error)) from None
    if out is None:
        typer.echo(document.decode("utf-8"))
    else:
        _write(out, document + b"\n")
        typer.echo(f"wrote {out} (issued {format_time(now)})", err=True)
