"""Account use cases on the real database: keys, peppers, authentication, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from bonafide.errors import Conflict, Forbidden, Unauthorized
from bonafide.market.accounts import AccountStatus, Role
from bonafide.service import accounts as service
from bonafide.service.ratelimit import RateLimited, RateLimiter
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _settings(engine: Engine, **overrides: object) -> Settings:
    return Settings(database_url=str(engine.url), **overrides)  # type: ignore[arg-type]


def test_a_generated_pepper_is_stored_once_and_keys_verify_against_it(engine: Engine) -> None:
    settings = _settings(engine)
    made = service.sign_up(UnitOfWork(engine), handle="ann", roles=frozenset({Role.buyer}),
                           settings=settings, now=NOW)
    found = service.authenticate(UnitOfWork(engine, read_only=True), api_key=made.api_key,
                                 settings=settings, now=NOW)
    assert found.id == made.account.principal.id
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM server_secrets")).scalar_one() == 1


def test_a_configured_pepper_is_used_and_never_stored(engine: Engine) -> None:
    settings = _settings(engine, api_key_pepper="a-long-secret-pepper")
    made = service.sign_up(UnitOfWork(engine), handle="ann", roles=frozenset({Role.buyer}),
                           settings=settings, now=NOW)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM server_secrets")).scalar_one() == 0
    assert service.authenticate(UnitOfWork(engine, read_only=True), api_key=made.api_key,
                                settings=settings, now=NOW).handle == "ann"
    other = _settings(engine, api_key_pepper="another-pepper")
    with pytest.raises(Unauthorized, match="api_key_invalid"):
        service.authenticate(UnitOfWork(engine, read_only=True), api_key=made.api_key,
                             settings=other, now=NOW)


def test_authentication_refuses_anything_but_the_exact_key(engine: Engine) -> None:
    settings = _settings(engine)
    made = service.sign_up(UnitOfWork(engine), handle="ann", roles=frozenset({Role.buyer}),
                           settings=settings, now=NOW)
    for wrong in ("", "bfk_", made.api_key + "x", made.api_key[:-1], made.api_key.upper(),
                  "xyz_" + made.api_key[4:]):
        with pytest.raises(Unauthorized):
            service.authenticate(UnitOfWork(engine, read_only=True), api_key=wrong,
                                 settings=settings, now=NOW)


def test_roles_and_status_change_through_the_rules(engine: Engine) -> None:
    settings = _settings(engine)
    op = service.create_operator(UnitOfWork(engine), handle="root", settings=settings, now=NOW)
    ann = service.sign_up(UnitOfWork(engine), handle="ann", roles=frozenset({Role.buyer}),
                          settings=settings, now=NOW).account.principal
    with pytest.raises(Forbidden):
        service.grant_role(UnitOfWork(engine), granter=ann, account_id=ann.id,
                           role=Role.moderator, now=NOW)
    granted = service.grant_role(UnitOfWork(engine), granter=op.account.principal,
                                 account_id=ann.id, role=Role.moderator, now=NOW)
    assert granted.principal.roles == {Role.buyer, Role.moderator}
    with pytest.raises(Conflict, match="account_lacks_role"):
        service.revoke_role(UnitOfWork(engine), granter=op.account.principal,
                            account_id=op.account.principal.id, role=Role.moderator, now=NOW)
    bob = service.sign_up(UnitOfWork(engine), handle="bob", roles=frozenset({Role.buyer}),
                          settings=settings, now=NOW).account.principal
    with pytest.raises(Conflict, match="account_needs_a_role"):
        service.revoke_role(UnitOfWork(engine), granter=op.account.principal,
                            account_id=bob.id, role=Role.buyer, now=NOW)
    uow = UnitOfWork(engine)
    with uow:
        suspended = service.set_account_status(uow, account_id=ann.id,
                                               status=AccountStatus.suspended)
        uow.commit()
    assert not suspended.is_active
    with pytest.raises(Forbidden, match="account_suspended"):
        service.require_active(suspended, doing="order")


def test_a_token_bucket_refuses_past_capacity_and_refills_with_time() -> None:
    limiter = RateLimiter(name="signup", capacity=2, period=timedelta(minutes=1))
    limiter.hit("1.2.3.4", now=NOW)
    limiter.hit("1.2.3.4", now=NOW)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("1.2.3.4", now=NOW)
    assert refused.value.code == "signup_rate_limited"
    assert refused.value.retry_after_seconds == 30
    limiter.hit("5.6.7.8", now=NOW)  # other addresses have their own bucket
    limiter.hit("1.2.3.4", now=NOW + timedelta(seconds=30))
    limiter.spend("9.9.9.9", now=NOW)
    limiter.spend("9.9.9.9", now=NOW)
    limiter.spend("9.9.9.9", now=NOW)  # spending never raises
    with pytest.raises(RateLimited):
        limiter.check("9.9.9.9", now=NOW)


def test_a_checked_key_is_remembered_briefly_and_a_wrong_one_never(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(engine)
    made = service.sign_up(UnitOfWork(engine), handle="ann", roles=frozenset({Role.buyer}),
                           settings=settings, now=NOW)
    uow = UnitOfWork(engine, read_only=True)
    assert service.recently_authenticated(uow, api_key=made.api_key) is None
    service.authenticate(uow, api_key=made.api_key, settings=settings, now=NOW)
    remembered = service.recently_authenticated(uow, api_key=made.api_key)
    assert remembered is not None and remembered.id == made.account.principal.id
    wrong = made.api_key[:-1] + ("A" if made.api_key[-1] != "A" else "B")
    with pytest.raises(Unauthorized):
        service.authenticate(uow, api_key=wrong, settings=settings, now=NOW)
    assert service.recently_authenticated(uow, api_key=wrong) is None
    # Past the bound the key must be checked against the database again.
    later = service.time.monotonic() + service.PRINCIPALS_CACHED_SECONDS + 0.001
    monkeypatch.setattr(service.time, "monotonic", lambda: later)
    assert service.recently_authenticated(uow, api_key=made.api_key) is None


def test_a_role_or_status_change_is_seen_by_the_next_authentication(engine: Engine) -> None:
    settings = _settings(engine)
    made = service.sign_up(UnitOfWork(engine), handle="ann",
                           roles=frozenset({Role.buyer, Role.seller}), settings=settings, now=NOW)
    operator = service.create_operator(UnitOfWork(engine), handle="op1", settings=settings,
                                       now=NOW).account.principal
    uow = UnitOfWork(engine, read_only=True)
    service.authenticate(uow, api_key=made.api_key, settings=settings, now=NOW)
    service.revoke_role(UnitOfWork(engine), granter=operator, account_id=made.account.principal.id,
                        role=Role.seller, now=NOW)
    assert service.recently_authenticated(uow, api_key=made.api_key) is None
    again = service.authenticate(uow, api_key=made.api_key, settings=settings, now=NOW)
    assert again.roles == frozenset({Role.buyer})
    with UnitOfWork(engine) as change:
        service.set_account_status(change, account_id=made.account.principal.id,
                                   status=AccountStatus.suspended)
        change.commit()
    assert service.recently_authenticated(uow, api_key=made.api_key) is None
    assert not service.authenticate(uow, api_key=made.api_key, settings=settings,
                                    now=NOW).is_active
