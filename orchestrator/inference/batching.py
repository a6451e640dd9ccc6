"""Dynamic batching for the embedded backend, with TorchServe's semantics: a batch closes when it
holds `batch_size` requests or `max_delay` has passed since its first one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

Request = TypeVar("Request")
Response = TypeVar("Response")


class MicroBatcher(Generic[Request, Response]):
    def __init__(self, run_batch: Callable[[list[Request]], list[Response]], batch_size: int, max_delay: float,
                 name: str) -> None:
        self.run_batch = run_batch
        self.batch_size = max(1, batch_size)
        self.max_delay = max_delay
        self._queue: asyncio.Queue[tuple[Request, asyncio.Future[Response]]] = asyncio.Queue()
        # One thread: the model runs one batch at a time, like one TorchServe worker.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def submit(self, request: Request) -> Response:
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, future))
        return await future

    async def _collect(self) -> list[tuple[Request, asyncio.Future[Response]]]:
        batch = [await self._queue.get()]
        deadline = asyncio.get_running_loop().time() + self.max_delay
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            live = [(request, future) for request, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                responses = await loop.run_in_executor(self._executor, self.run_batch, [r for r, _ in live])
            except Exception as error:
                if len(live) == 1:
                    if not live[0][1].done():
                        live[0][1].set_exception(error)
                    continue
                # One request the model chokes on must not fail its neighbours: each runs again alone, and
                # only the ones that fail alone hear why.
                for request, future in live:
                    await self._run_alone(request, future)
                continue
            for (_, future), response in zip(live, responses, strict=True):
                if not future.done():
                    future.set_result(response)

    async def _run_alone(self, request: Request, future: asyncio.Future[Response]) -> None:
        if future.done():
            return
        try:
            (response,) = await asyncio.get_running_loop().run_in_executor(self._executor, self.run_batch, [request])
        except Exception as error:
            if not future.done():
                future.set_exception(error)
            return
        if not future.done():
            future.set_result(response)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)
