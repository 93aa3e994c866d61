"""One model, many clients: concurrent requests grouped into one decoder batch.

Every served model has a :class:`Batcher`: a queue in front of one worker thread that owns the
model.  While the thread decodes one batch, new requests wait in the queue; when it is free,
everything waiting (up to ``max_items`` inputs) with the same options is decoded together.
So one client gets its answer at once, and 32 clients share batches instead of queueing one
by one.  The event loop only awaits futures, never a model.

A job that cannot share a batch (a poem: its seed decides the output) runs alone, in turn.
A batch that fails is retried job by job, so one bad input fails only its own request.  A job
whose client has gone (its future cancelled) is dropped before it is decoded, and
:meth:`Batcher.fail_all` answers everything still waiting when the server shuts down.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Optional, Sequence

Run = Callable[[Hashable, list], list]  # (options, inputs) -> one output per input


@dataclass
class _Job:
    options: Hashable
    inputs: list
    future: asyncio.Future
    run: Optional[Callable[[], Any]] = None  # a job that runs alone


class Batcher:
    """``await submit(options, inputs)``: the outputs of ``run(options, inputs)``, computed in a
    batch with the inputs of other requests that have equal ``options``; ``await alone(fn)``:
    ``fn()`` on the model's thread, in turn with the batches."""

    def __init__(self, run: Optional[Run], max_items: int = 64, name: str = "model"):
        self.run, self.max_items = run, max_items
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.queue: Optional[asyncio.Queue[_Job]] = None
        self.worker: Optional[asyncio.Task] = None
        self.waiting: list[_Job] = []  # taken from the queue, not yet decoded
        self.running: list[_Job] = []  # being decoded
        self.batches = 0  # decoder calls so far, for /health and the tests
        self.dropped = 0  # jobs whose client went away before their turn

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)
        self.thread.shutdown(wait=True)

    async def submit(self, options: Hashable, inputs: Sequence) -> list:
        assert self.run is not None, "this model's jobs run alone"
        return await self._enqueue(_Job(options, list(inputs), asyncio.get_running_loop().create_future()))

    async def alone(self, run: Callable[[], Any]) -> Any:
        return await self._enqueue(_Job(None, [], asyncio.get_running_loop().create_future(), run))

    async def _enqueue(self, job: _Job) -> Any:
        assert self.queue is not None, "Batcher.start() first"
        await self.queue.put(job)
        return await job.future

    def fail_all(self, error: BaseException) -> int:
        """Answer every job not yet done with ``error`` (the one being decoded too: its result
        is then dropped); how many were answered."""
        assert self.queue is not None
        while not self.queue.empty():
            self.waiting.append(self.queue.get_nowait())
        pending = [job for job in self.waiting + self.running if not job.future.done()]
        for job in pending:
            _settle(job.future, error=error)
        self.waiting.clear()
        return len(pending)

    async def _work(self) -> None:
        assert self.queue is not None
        waiting = self.waiting
        while True:
            if not waiting:
                waiting.append(await self.queue.get())
            while not self.queue.empty():
                waiting.append(self.queue.get_nowait())
            first = waiting[0]
            if first.run is not None:
                batch = [waiting.pop(0)]
            else:
                batch, size = [], 0
                for job in list(waiting):
                    if job.run is None and job.options == first.options and \
                            (not batch or size + len(job.inputs) <= self.max_items):
                        batch.append(job)
                        size += len(job.inputs)
                        waiting.remove(job)
            gone = [job for job in batch if job.future.done()]  # cancelled: the client went away
            self.dropped += len(gone)
            batch = [job for job in batch if not job.future.done()]
            if batch:
                self.running = batch
                try:
                    await self._decode(batch)
                finally:
                    self.running = []

    async def _decode(self, batch: list[_Job]) -> None:
        loop = asyncio.get_running_loop()
        self.batches += 1
        try:
            if batch[0].run is not None:
                outputs = [await loop.run_in_executor(self.thread, batch[0].run)]
            else:
                flat = [item for job in batch for item in job.inputs]
                found = await loop.run_in_executor(self.thread, self.run, batch[0].options, flat)
                outputs, start = [], 0
                for job in batch:
                    outputs.append(found[start:start + len(job.inputs)])
                    start += len(job.inputs)
        except Exception as error:  # noqa: BLE001 - handed to the request that caused it
            if len(batch) > 1:
                for job in batch:
                    await self._decode([job])
                return
            _settle(batch[0].future, error=error)
            return
        for job, output in zip(batch, outputs):
            _settle(job.future, output)


def _settle(future: asyncio.Future, result: Any = None, error: Optional[BaseException] = None) -> None:
    if future.done():  # cancelled: its client disconnected
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
