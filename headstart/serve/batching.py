"""Dynamic micro-batching: the requests that queued while the previous forward pass ran (plus any
arriving within ``max_wait`` seconds) share one forward pass of up to ``max_batch`` inputs; a bounded
queue refuses work it could not finish in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class QueueFull(Exception):
    """More requests are waiting than the queue holds: answer 503 and ask the client to retry."""


@dataclass
class Pending:
    items: list[Any]
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Runs ``forward(items) -> outputs (n, k)`` on batches gathered from concurrent ``submit`` calls,
    one batch at a time on one thread (so a PyTorch or onnxruntime model is never called concurrently).

    ``enabled=False`` runs each request alone (one request, one forward): the comparison point.
    ``on_batch(n)`` is told the size of every forward pass.
    """

    def __init__(self, forward: Callable[[list[Any]], np.ndarray], *, max_batch: int = 32, max_wait: float = 0.0,
                 max_queue: int = 128, enabled: bool = True, on_batch: Callable[[int], None] | None = None) -> None:
        self.forward, self.max_batch, self.max_wait, self.max_queue = forward, max_batch, max_wait, max_queue
        self.enabled, self.on_batch = enabled, on_batch or (lambda n: None)
        self.queue: asyncio.Queue[Pending] | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headstart-forward")
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self.loop())

    async def stop(self) -> None:
        """Finish every queued request, then stop."""
        if self.queue is not None:
            await self.queue.join()
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=True)

    async def submit(self, items: list[Any]) -> np.ndarray:
        """The outputs for ``items``, computed in some batch; ``QueueFull`` if too many wait."""
        assert self.queue is not None, "MicroBatcher.start() was not called"
        if self.queue.qsize() >= self.max_queue:
            raise QueueFull
        pending = Pending(items, asyncio.get_running_loop().create_future())
        self.queue.put_nowait(pending)
        return await pending.future

    async def gather(self) -> list[Pending]:
        """The next batch: the first waiting request, plus any arriving within ``max_wait`` while
        the batch holds fewer than ``max_batch`` inputs."""
        assert self.queue is not None
        batch = [await self.queue.get()]
        if not self.enabled:
            return batch
        size, deadline = len(batch[0].items), time.perf_counter() + self.max_wait
        while size < self.max_batch:
            try:
                nxt = self.queue.get_nowait() if self.queue.qsize() else await asyncio.wait_for(
                    self.queue.get(), max(deadline - time.perf_counter(), 0))
            except asyncio.TimeoutError:
                break
            batch.append(nxt)
            size += len(nxt.items)
        return batch

    async def loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.queue is not None
        while True:
            batch = await self.gather()
            try:
                await self.run(loop, batch)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def run(self, loop: asyncio.AbstractEventLoop, batch: list[Pending]) -> None:
        """One forward pass for the batch; if it fails, each request alone, so one bad input
        fails only its own request."""
        items = [item for p in batch for item in p.items]
        self.on_batch(len(items))
        try:
            outputs = await loop.run_in_executor(self.executor, self.forward, items)
        except Exception as exc:  # noqa: BLE001  (handed to each request below)
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            for pending in batch:
                await self.run(loop, [pending])
            return
        start = 0
        for pending in batch:
            if not pending.future.done():
                pending.future.set_result(outputs[start : start + len(pending.items)])
            start += len(pending.items)
