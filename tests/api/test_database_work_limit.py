"""A server process lets as many requests do database work at once as its pool has connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import anyio.to_thread
from fastapi import FastAPI

from bonafide.api.app import database_work_limit


def test_the_lifespan_sets_the_thread_limit_to_the_pool_size() -> None:
    app = FastAPI(lifespan=database_work_limit(3))

    async def tokens_while_serving() -> float:
        async with app.router.lifespan_context(app):
            return anyio.to_thread.current_default_thread_limiter().total_tokens

    # On a thread of its own: the browser tests' Playwright keeps an event loop running on the
    # main thread of the test process, and anyio.run refuses to start a second one there.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(anyio.run, tokens_while_serving).result() == 3
