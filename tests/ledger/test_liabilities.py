"""The Merkle sum tree of liabilities: every account's proof verifies against the root; changing
a balance, dropping an account or inflating a node sum makes a proof fail."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bonafide.errors import Rejected
from bonafide.ledger.liabilities import (
    SUM_MAX,
    InclusionProof,
    Liability,
    ProofResult,
    SumTree,
    TreeRoot,
    build_trees,
    commitment,
    expected_sides,
    leaf_hash,
    liabilities_by_currency,
    node_hash,
    verify_proof,
)

SALT = hashlib.sha256(b"test salt").digest()

ledgers = st.dictionaries(
    st.text("abcdefghijk0123456789_", min_size=1, max_size=12),
    st.integers(0, 2**53 - 1),
    min_size=1,
    max_size=40,
).map(lambda d: [Liability(k, v) for k, v in d.items()])


def reference_root(currency: str, items: list[Liability], salt: bytes) -> tuple[bytes, int]:
    """The slow, obvious twin: recursive halving of the sorted leaves, odd node carried up."""
    nodes = sorted(
        ((leaf_hash(commitment(salt=salt, currency=currency, account=i.account), i.balance),
          i.balance, commitment(salt=salt, currency=currency, account=i.account)) for i in items),
        key=lambda n: n[2],
    )
    level = [(h, s) for h, s, _ in nodes]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 == len(level):
                nxt.append(level[i])
            else:
                (lh, ls), (rh, rs) = level[i], level[i + 1]
                nxt.append((node_hash(lh, ls, rh, rs), ls + rs))
        level = nxt
    return level[0]


def test_the_worked_example_of_the_docstring() -> None:
    items = [Liability("a", 500), Liability("b", 0), Liability("c", 1200)]
    tree = SumTree.build("EUR", items, salt=SALT)
    assert tree.root.total == 1700 and tree.root.leaf_count == 3
    for item in items:
        proof = tree.proof(item.account)
        assert proof.balance == item.balance
        assert verify_proof(proof, tree.root).ok
    # The leaf at index 2 of 3 is carried up at level one: a single step on its path.
    last = next(p for p in (tree.proof(i.account) for i in items) if p.leaf_index == 2)
    assert [s.side for s in last.path] == ["left"] and last.path[0].sum == 500 + 0 + 1200 - (
        last.balance
    )


def test_a_single_account_is_its_own_root() -> None:
    tree = SumTree.build("EUR", [Liability("only", 42)], salt=SALT)
    proof = tree.proof("only")
    assert proof.path == () and tree.root.total == 42
    assert verify_proof(proof, tree.root).ok


@given(ledgers)
def test_every_proof_verifies_and_the_root_total_is_the_sum(items: list[Liability]) -> None:
    tree = SumTree.build("EUR", items, salt=SALT)
    assert tree.root.total == sum(i.balance for i in items)
    assert (tree.root.root_hash, tree.root.total) == reference_root("EUR", items, SALT)
    for item in items:
        proof = tree.proof(item.account)
        assert proof.balance == item.balance
        round_tripped = InclusionProof.from_json(proof.to_json())
        assert round_tripped == proof
        assert verify_proof(round_tripped, tree.root).ok


@given(ledgers, st.data())
def test_a_changed_balance_makes_the_proof_fail(items: list[Liability], data: st.DataObject
                                                 ) -> None:
    # The operator builds the published tree with one balance lowered (or raised); the owner,
    # who knows their true balance, cannot obtain a proof of it that matches the root.
    victim = data.draw(st.sampled_from(items))
    other = data.draw(st.integers(0, 2**53 - 1).filter(lambda v: v != victim.balance))
    cooked = [Liability(i.account, other) if i == victim else i for i in items]
    published = SumTree.build("EUR", cooked, salt=SALT)
    proof = published.proof(victim.account)
    assert proof.balance == other, "the proof shows the cooked balance, which the owner sees"
    claimed = dataclasses.replace(proof, balance=victim.balance)
    assert verify_proof(claimed, published.root).result in (
        ProofResult.root_total_mismatch, ProofResult.root_hash_mismatch)


@given(ledgers, st.data())
def test_a_dropped_account_has_no_proof(items: list[Liability], data: st.DataObject) -> None:
    assume(len(items) > 1)
    victim = data.draw(st.sampled_from(items))
    full = SumTree.build("EUR", items, salt=SALT)
    dropped = SumTree.build("EUR", [i for i in items if i != victim], salt=SALT)
    with pytest.raises(Rejected, match="account_not_in_tree"):
        dropped.proof(victim.account)
    assert not verify_proof(full.proof(victim.account), dropped.root).ok


@given(ledgers, st.data())
def test_an_inflated_or_deflated_node_sum_makes_the_proof_fail(
    items: list[Liability], data: st.DataObject
) -> None:
    assume(len(items) > 1)
    tree = SumTree.build("EUR", items, salt=SALT)
    proof = tree.proof(data.draw(st.sampled_from(items)).account)
    at = data.draw(st.integers(0, len(proof.path) - 1))
    step = proof.path[at]
    delta = data.draw(st.integers(-step.sum, 2**53).filter(lambda d: d != 0))
    path = list(proof.path)
    path[at] = dataclasses.replace(step, sum=step.sum + delta)
    result = verify_proof(dataclasses.replace(proof, path=tuple(path)), tree.root)
    assert not result.ok
    # Even when the root total is adjusted to match, the hash binds the child sums.
    moved = TreeRoot(tree.root.currency, tree.root.root_hash, tree.root.total + delta,
                     tree.root.leaf_count)
    assert verify_proof(dataclasses.replace(proof, path=tuple(path)), moved).result is (
        ProofResult.root_hash_mismatch
    )


def test_a_sibling_sum_cannot_be_shifted_between_children() -> None:
    # Maxwell's original tree hashed only the parent's sum, so a node could under-report one
    # child and over-report the other; here each child's sum is in its parent's hash.
    items = [Liability(f"acct{i}", 100 * (i + 1)) for i in range(4)]
    tree = SumTree.build("EUR", items, salt=SALT)
    proof = tree.proof("acct0")
    assert len(proof.path) == 2
    shifted = dataclasses.replace(proof, balance=proof.balance + 50, path=(
        dataclasses.replace(proof.path[0], sum=proof.path[0].sum - 50), proof.path[1]))
    assert verify_proof(shifted, tree.root).result is ProofResult.root_hash_mismatch


def test_negative_sums_are_refused_when_building_and_when_verifying() -> None:
    with pytest.raises(Rejected, match="liability_balance_out_of_range"):
        SumTree.build("EUR", [Liability("a", 5), Liability("b", -1)], salt=SALT)
    tree = SumTree.build("EUR", [Liability("a", 5), Liability("b", 7)], salt=SALT)
    proof = tree.proof("a")
    negative = dataclasses.replace(proof, path=(dataclasses.replace(proof.path[0], sum=-1),))
    assert verify_proof(negative, tree.root).result is ProofResult.sum_out_of_range
    huge = dataclasses.replace(proof, balance=SUM_MAX + 1)
    assert verify_proof(huge, tree.root).result is ProofResult.sum_out_of_range


def test_a_proof_for_another_currency_size_or_position_is_refused() -> None:
    items = [Liability(f"a{i}", i) for i in range(5)]
    tree = SumTree.build("EUR", items, salt=SALT)
    proof = tree.proof("a3")
    usd = TreeRoot("USD", tree.root.root_hash, tree.root.total, tree.root.leaf_count)
    assert verify_proof(proof, usd).result is ProofResult.currency_mismatch
    assert verify_proof(dataclasses.replace(proof, leaf_count=6), tree.root).result is (
        ProofResult.leaf_count_mismatch
    )
    moved = dataclasses.replace(proof, leaf_index=(proof.leaf_index + 2) % 5)
    assert verify_proof(moved, tree.root).result in (
        ProofResult.path_shape_invalid, ProofResult.root_hash_mismatch)
    assert verify_proof(dataclasses.replace(proof, leaf_index=7), tree.root).result is (
        ProofResult.path_shape_invalid
    )
    other_salt = dataclasses.replace(proof, salt=bytes(32))
    assert verify_proof(other_salt, tree.root).result is ProofResult.root_hash_mismatch


@given(st.integers(1, 300), st.data())
def test_path_shapes_follow_from_index_and_count(count: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, count - 1))
    sides = expected_sides(index, count)
    assert sides is not None and len(sides) <= count.bit_length()
    assert expected_sides(count, count) is None


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(Rejected, match="liability_account_duplicate"):
        SumTree.build("EUR", [Liability("a", 1), Liability("a", 2)], salt=SALT)
    with pytest.raises(Rejected, match="liabilities_count_out_of_range"):
        SumTree.build("EUR", [], salt=SALT)
    with pytest.raises(Rejected, match="currency_code_invalid"):
        SumTree.build("eur", [Liability("a", 1)], salt=SALT)
    with pytest.raises(Rejected, match="salt_length_invalid"):
        SumTree.build("EUR", [Liability("a", 1)], salt=b"short")
    with pytest.raises(Rejected, match="liability_balance_not_integer"):
        SumTree.build("EUR", [Liability("a", 1.5)], salt=SALT)  # type: ignore[arg-type]
    with pytest.raises(Rejected, match="liabilities_total_out_of_range"):
        SumTree.build("EUR", [Liability("a", SUM_MAX), Liability("b", 1)], salt=SALT)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.update(salt="zz"),
        lambda d: d.update(balance=1.5),
        lambda d: d.update(tree="other"),
        lambda d: d.update(path=[{"side": "up", "hash": "00" * 32, "sum": 1}]),
        lambda d: d.pop("leaf_index"),
        lambda d: d.update(currency="EURO"),
    ],
)
def test_malformed_proofs_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    data = SumTree.build("EUR", [Liability("a", 1), Liability("b", 2)], salt=SALT).proof(
        "a").to_json()
    mangle(data)
    with pytest.raises(Rejected, match="proof_malformed"):
        InclusionProof.from_json(data)


def test_trees_are_built_per_currency() -> None:
    grouped = liabilities_by_currency([("w1", "EUR", 5), ("w2", "EUR", 6), ("w1u", "USD", 7)])
    trees = build_trees(grouped, salt=SALT)
    assert {c: t.root.total for c, t in trees.items()} == {"EUR": 11, "USD": 7}
    assert "w1" in trees["EUR"] and "w1" not in trees["USD"]


def test_the_salt_hides_the_account_and_changes_every_root() -> None:
    items = [Liability("a", 1), Liability("b", 2)]
    one = SumTree.build("EUR", items, salt=SALT)
    two = SumTree.build("EUR", items, salt=bytes(32))
    assert one.root.root_hash != two.root.root_hash and one.root.total == two.root.total


def test_building_a_hundred_thousand_leaves_takes_well_under_ten_seconds() -> None:
    count = 100_000
    items = [Liability(f"acc_{i:08d}", (i * 7919) % 100_000) for i in range(count)]
    started = time.perf_counter()
    tree = SumTree.build("EUR", items, salt=SALT)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    assert verify_proof(tree.proof("acc_00012345"), tree.root).ok
