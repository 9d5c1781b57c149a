"""A Dask cluster shared by the scale tests: two single-threaded worker processes.

Processes, not threads, so every kernel and every chunk really crosses a pickle boundary as it
would on a cluster; started once per session because a start costs about two seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from bonafide.reputation.distributed import open_cluster

    with open_cluster(n_workers=2, memory_limit="1GB", processes=True) as client:
        yield client
