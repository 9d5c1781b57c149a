"""Kernels of the chunked engine against the in-process functions they must equal."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from bonafide.reputation import RatingGraph, burst_suspicion, ring_suspicion
from bonafide.reputation import kernels as k
from bonafide.reputation.behaviour import BURST_WINDOWS_SECONDS


def random_graph(seed: int, n: int, m: int) -> RatingGraph:
    rng = np.random.default_rng(seed)
    rater = rng.integers(0, n, m)
    ratee = rng.integers(0, n, m)
    rating = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], m, p=[0.1, 0.05, 0.05, 0.1, 0.7])
    ts = 1.7e9 + rng.random(m) * 90 * 86_400.0
    return RatingGraph.from_indices(rater, ratee, rating, n_accounts=n, timestamp=ts)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("blocks", [1, 3])
def test_triangles_by_oriented_wedges_give_ring_suspicion_exactly(seed: int, blocks: int) -> None:
    # Dense enough for many triangles and for some accounts over the hub limit.
    graph = random_graph(seed, n=40 + 10 * seed, m=60 * (seed + 1))
    chunk = k.EdgeChunk(graph.rater, graph.ratee, graph.rating, None)
    n = graph.n_accounts
    keys = k.positive_pair_keys(chunk, n)
    (degree,) = k.pair_degree_partial(keys, n)
    oriented = k.orient_small_pairs(keys, degree, n, 8)
    bounds = np.linspace(0, n, blocks + 1).astype(int)
    (triangles,) = k.combine_sum([k.triangles_partial(oriented, int(a), int(b))
                                  for a, b in itertools.pairwise(bounds)])
    got = k.ring_finish(triangles, oriented.degree, pairs_prior=2.0)
    assert (got == ring_suspicion(graph, degree_max=8)).all()


@pytest.mark.parametrize("seed", range(4))
def test_burst_edges_on_ratee_complete_chunks_give_burst_suspicion_exactly(seed: int) -> None:
    graph = random_graph(seed, n=12, m=400)
    assert graph.timestamp is not None
    expected = burst_suspicion(graph)
    whole = k.EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp,
                        {"row": np.arange(graph.n_ratings)})
    got = np.empty(graph.n_ratings)
    for part in k.split_by_ratee(whole, 3):
        assert part.timestamp is not None
        got[part.state["row"]] = k.burst_edges(
            part.ratee, part.timestamp - graph.timestamp.min(), graph.n_accounts,
            windows_seconds=BURST_WINDOWS_SECONDS, count_min=5.0, ratio_min=2.0)
    assert (got == expected).all()


def test_partials_travel_as_the_touched_entries_and_combine_to_the_dense_result() -> None:
    import dataclasses

    from bonafide.reputation import distributed as d

    graph = random_graph(7, n=4000, m=3000)  # many accounts, few per chunk: compaction pays
    n = graph.n_accounts
    whole = k.EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp,
                        {"keep": np.linspace(0.0, 1.0, graph.n_ratings)})
    chunks = [d._concat(part) for part in k.split_by_ratee(whole, 6)]
    assert all(c.touched is not None for c in chunks)
    weight = np.linspace(0.1, 1.0, n)
    cases = [(k.degrees_partial, k.combine_sum, (n,)),
             (k.trust_partial, k.combine_sum, (weight, n, 0.0)),
             (k.first_rating_partial, k.combine_min, (n,))]
    for fn, combine, args in cases:
        parts = [d._compact_partial(fn, c, *args) for c in chunks]
        assert any(isinstance(v, d.SparsePart) for p in parts for v in p)
        # A tree: sparse leaves combined in two groups, then the two dense results.
        got = d._combine(combine, d._combine(combine, *parts[:3]),
                         d._combine(combine, *parts[3:]))
        expected = combine([fn(dataclasses.replace(c, touched=None), *args) for c in chunks])
        for g, e in zip(got, expected, strict=True):
            assert np.array_equal(g, e)


def test_int32_chunk_indices_give_the_same_pair_keys_as_int64_past_the_int32_range() -> None:
    # low * n exceeds 2**31 here: keys must be formed in 64 bits whatever the chunk stores.
    n = 100_000
    rater = np.array([99_990, 5, 99_999, 70_000, 99_990])
    ratee = np.array([99_999, 99_998, 99_990, 99_997, 99_999])
    rating = np.array([1.0, 1.0, 1.0, -1.0, 1.0])
    wide = k.EdgeChunk(rater, ratee, rating, None)
    narrow = k.EdgeChunk(rater.astype(np.int32), ratee.astype(np.int32), rating, None)
    assert int(narrow.rater.max()) * n > 2**31
    assert k.positive_pair_keys(narrow, n).tolist() == k.positive_pair_keys(wide, n).tolist()
    assert k.positive_pair_keys(narrow, n).tolist() == [5 * n + 99_998, 99_990 * n + 99_999]
    link = k.link_keys(np.array([[99_999, 99_990]]), n)
    assert k.linked_edges(narrow.rater, narrow.ratee, link, n).tolist() == [
        True, False, True, False, True]
    selected = k.fraudar_select(narrow, n, positive_only=True).state["selected"]
    # One of the repeated pair (99_990 -> 99_999) is selected, not both.
    assert selected.tolist() == [True, True, True, False, False]


@pytest.mark.parametrize("seed", range(3))
def test_burst_edges_over_local_ratee_positions_equal_the_global_ones(seed: int) -> None:
    from bonafide.reputation import distributed as d

    graph = random_graph(seed, n=3000, m=2500)
    assert graph.timestamp is not None
    whole = k.EdgeChunk(graph.rater.astype(np.int32), graph.ratee.astype(np.int32),
                        graph.rating, graph.timestamp)
    for chunk in (d._concat(part) for part in k.split_by_ratee(whole, 4)):
        assert chunk.touched is not None and chunk.local is not None
        ts_min = float(graph.timestamp.min())
        local = d._burst_update(chunk, ts_min, graph.n_accounts, 0.5).state["burst_raw"]
        glob = d._burst_update(dataclasses.replace(chunk, touched=None, local=None), ts_min,
                               graph.n_accounts, 0.5).state["burst_raw"]
        assert np.array_equal(local, glob)


@pytest.mark.parametrize("key_blocks", [1, 3, 8])
def test_ring_stage_over_key_ranges_gives_ring_suspicion_exactly(key_blocks: int) -> None:
    from bonafide.reputation import distributed as d

    graph = random_graph(11, n=120, m=400)
    whole = k.EdgeChunk(graph.rater.astype(np.int32), graph.ratee.astype(np.int32),
                        graph.rating, None)
    runner = d.LocalRunner(k.split_by_ratee(whole, 5))
    got = d._ring_stage(runner, graph.n_accounts, degree_max=8, key_blocks=key_blocks)
    assert (got == ring_suspicion(graph, degree_max=8)).all()
    assert got.max() > 0  # the graph has triangles among small accounts


@pytest.mark.parametrize("spread", [1, 3, 1000])  # dense ids use tables, sparse ones search
def test_integer_ids_index_the_same_through_tables_or_sorted_search(spread: int) -> None:
    from bonafide.reputation import distributed as d

    rng = np.random.default_rng(spread)
    ids = np.sort(rng.choice(np.arange(5, 5 + 400 * spread), 400, replace=False))
    raws = [d.RawPiece(rng.choice(ids, 300), rng.choice(ids, 300), np.zeros(300), None)
            for _ in range(3)]
    accounts = d._sorted_ids(d._union_ids([d._piece_ids(r) for r in raws]))
    every = np.concatenate([np.concatenate([r.rater, r.ratee]) for r in raws])
    assert accounts.tolist() == np.unique(every).tolist()
    for raw in raws:
        chunk = d._index_piece(raw, accounts)
        assert chunk.rater.dtype == np.int32
        assert (accounts[chunk.rater] == raw.rater).all()
        assert (accounts[chunk.ratee] == raw.ratee).all()


def test_float32_star_ratings_give_the_same_kernel_results_as_float64() -> None:
    from bonafide.reputation import distributed as d

    graph = random_graph(5, n=200, m=3000)
    assert graph.timestamp is not None
    narrow = d._narrow(graph.rating)
    assert narrow.dtype == np.float32  # the test graph's ratings are multiples of 1/2
    wide = k.EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp,
                       {"keep": np.linspace(0.0, 1.0, graph.n_ratings)})
    thin = dataclasses.replace(wide, rating=narrow)
    first = np.full(graph.n_accounts, float(graph.timestamp.min()))
    for threshold in (0.0, 0.3, -0.2):
        for a, b in zip(k.outcomes(thin.rating, threshold), k.outcomes(wide.rating, threshold),
                        strict=True):
            assert a.dtype == np.float64 and np.array_equal(a, b)
    for extreme in (0.99, 0.5, 0.4999999):
        assert np.array_equal(
            k.hired_like_edges(thin, first, young_seconds=40 * 86_400.0, extreme_min=extreme),
            k.hired_like_edges(wide, first, young_seconds=40 * 86_400.0, extreme_min=extreme))
    weight = np.linspace(0.1, 1.0, graph.n_accounts)
    for a, b in zip(k.trust_partial(thin, weight, graph.n_accounts, 0.0),
                    k.trust_partial(wide, weight, graph.n_accounts, 0.0), strict=True):
        assert np.array_equal(a, b)


def test_burst_edges_over_ratee_groups_equal_the_whole_graph_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph = random_graph(9, n=30, m=4000)
    assert graph.timestamp is not None
    ts = graph.timestamp - graph.timestamp.min()
    ts[graph.ratee == 3] = 40 * 86_400.0 + np.arange(int((graph.ratee == 3).sum()))  # a burst
    ts[(graph.ratee == 4) & (np.arange(4000) % 2 == 0)] = 10 * 86_400.0  # half a burst
    args = dict(windows_seconds=BURST_WINDOWS_SECONDS, count_min=5.0, ratio_min=2.0)
    whole = k.burst_edges(graph.ratee, ts, graph.n_accounts, **args)
    monkeypatch.setattr(k, "BURST_SLICE_EDGES", 700)  # six groups of ratees
    grouped = k.burst_edges(graph.ratee, ts, graph.n_accounts, **args)
    assert whole.max() > 0 and np.array_equal(grouped, whole)


def _peel_rounds_dense(chunks: list[k.EdgeChunk], n: int) -> list[float]:
    """The slow twin of ``distributed._peel_stage``: every round over every edge with
    length-n alive masks (``peel_partial`` and ``peel_step``); the densities of its rounds."""
    alive_rater, alive_ratee = k.combine_sum([k.alive_partial(c, n) for c in chunks])
    alive_rater, alive_ratee = alive_rater > 0, alive_ratee > 0
    densities = []
    while alive_rater.any() or alive_ratee.any():
        parts = [k.peel_partial(dataclasses.replace(c, touched=None, local=None), alive_rater,
                                alive_ratee, n) for c in chunks]
        degree_rater, degree_ratee = k.combine_sum(parts)
        density, alive_rater, alive_ratee = k.peel_step(degree_rater, degree_ratee, alive_rater,
                                                        alive_ratee, epsilon=0.1)
        densities.append(density)
    return densities


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("parts", [1, 4])
@pytest.mark.parametrize("local", [False, True])
def test_peeling_over_live_edges_gives_every_round_and_block_of_the_dense_peel(
    seed: int, parts: int, local: bool
) -> None:
    from bonafide.reputation import distributed as d
    from bonafide.reputation import fraudar

    # A dense core planted in a sparse random graph, so peels run several rounds.
    rng = np.random.default_rng(seed)
    n, m = 600, 6000
    core = rng.integers(0, 40, (2, 1500))
    rater = np.concatenate([rng.integers(0, n, m), core[0]])
    ratee = np.concatenate([rng.integers(0, n, m), core[1]])
    graph = RatingGraph.from_indices(rater, ratee, np.ones(rater.shape[0]), n_accounts=n)
    whole = k.EdgeChunk(graph.rater, graph.ratee, graph.rating, None)
    runner = d.LocalRunner(k.split_by_ratee(whole, parts))
    runner.update(k.fraudar_select, n, positive_only=True)
    (degree_in,) = runner.reduce(k.selected_in_degree_partial, k.combine_sum, n)
    runner.update(k.fraudar_weigh, degree_in, column_offset=5.0)
    alive = [v > 0 for v in runner.reduce(k.alive_partial, k.combine_sum, n)]
    expected_densities = _peel_rounds_dense(runner.chunks, n)
    if local:
        runner.update(k.with_local_positions)
    raters, ratees, density, density_graph = d._peel_stage(runner, n, *alive)
    (block,) = fraudar(graph, blocks_max=1)
    assert (raters == block.raters).all() and (ratees == block.ratees).all()
    assert density == max(expected_densities) and density_graph == expected_densities[0]
    assert abs(density - block.density) <= 1e-12 * block.density
    assert len(expected_densities) > 3
    assert all(c.peel is None for c in runner.chunks)


@pytest.mark.parametrize("seed", range(3))
def test_local_positions_from_one_sort_equal_a_binary_search_into_the_distinct_accounts(
    seed: int
) -> None:
    rng = np.random.default_rng(seed)
    rater = rng.integers(0, 5_000, 3_000).astype(np.int32)
    ratee = (rng.integers(0, 100, 3_000) * 37).astype(np.int32)
    chunk = k.with_local_positions(k.EdgeChunk(rater, ratee, np.ones(3_000), None))
    touched = np.unique(np.concatenate([rater, ratee]))
    assert chunk.touched is not None and chunk.local is not None
    assert (chunk.touched == touched).all() and chunk.touched.dtype == np.int32
    assert (chunk.local[0] == np.searchsorted(touched, rater)).all()
    assert (chunk.local[1] == np.searchsorted(touched, ratee)).all()


@pytest.mark.parametrize("local", [False, True])
def test_fraudar_select_marks_the_first_eligible_rating_of_each_pair(local: bool) -> None:
    rng = np.random.default_rng(3)
    rater, ratee = rng.integers(0, 30, 2_000), rng.integers(0, 30, 2_000)
    rating = rng.choice([-1.0, 1.0], 2_000)
    chunk = k.EdgeChunk(rater, ratee, rating, None)
    if local:
        chunk = k.with_local_positions(chunk)
    got = k.fraudar_select(chunk, 30, positive_only=True).state["selected"]
    seen: set[tuple[int, int]] = set()
    expected = np.zeros(2_000, dtype=bool)
    for row in range(2_000):  # the slow twin: walk the ratings in order
        pair = (int(rater[row]), int(ratee[row]))
        if rating[row] > 0 and pair not in seen:
            seen.add(pair)
            expected[row] = True
    assert (got == expected).all()


def test_bursts_do_not_depend_on_the_order_of_ratings_with_equal_ratee_and_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    ratee = rng.integers(0, 6, 3_000)
    ts = np.round(rng.random(3_000) * 40 * 24, 0) * 3_600.0  # 40 days in whole hours: ties
    ratee[:200], ts[:200] = 0, 100 * 3_600.0  # and a burst: 200 ratings of one ratee in an hour
    args = dict(windows_seconds=BURST_WINDOWS_SECONDS, count_min=5.0, ratio_min=2.0)
    got = k.burst_edges(ratee, ts, 6, **args)  # type: ignore[arg-type]
    order = k._order_by_ratee_time(ratee, ts, 6)
    assert (np.diff(ratee[order]) >= 0).all()
    same = np.diff(ratee[order]) == 0
    assert (np.diff(ts[order])[same] >= 0).all()
    monkeypatch.setattr(k, "_order_by_ratee_time", lambda r, t, n: np.lexsort((t, r)))
    assert (got == k.burst_edges(ratee, ts, 6, **args)).all()  # type: ignore[arg-type]
    assert got.max() > 0


@pytest.mark.parametrize("fold", [np.add, np.minimum])
def test_a_sparse_fold_in_blocks_gives_the_part_by_part_fold_exactly(
    fold: np.ufunc, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(8)
    size = 1_000
    parts: list[object] = [
        k.SparsePart(np.sort(rng.choice(size, 300, replace=False)), rng.random(300), size)
        for _ in range(5)]
    parts.insert(2, rng.random(size))  # a dense vector among them
    identity = 0.0 if fold is np.add else np.inf
    expected = np.full(size, identity)
    for part in parts:  # the slow twin: one part at a time over the whole vector
        if isinstance(part, k.SparsePart):
            expected[part.ids] = fold(expected[part.ids], part.values)
        else:
            expected = fold(expected, part)
    monkeypatch.setattr(k, "FOLD_BLOCK", 64)
    present = np.zeros(size, dtype=bool)
    got = k.fold_sparse(parts, fold, identity, size, present)
    assert np.array_equal(got, expected)
    named = np.unique(np.concatenate([p.ids for p in parts if isinstance(p, k.SparsePart)]))
    assert (np.flatnonzero(present) == named).all()
