"""A Sanic app served in the test's own process, on a free port, from a thread and event
loop of its own: for testing one application (the desk, a channel's blueprint) without
starting the whole assistant."""

from __future__ import annotations

import asyncio
import socket
import threading

from sanic import Sanic


class RunningApp:
    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(self.app.create_server(
            sock=self.socket, return_asyncio_server=True, access_log=False))  # listening
        self.loop.run_until_complete(self.server.startup())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(15), "the app did not start"
        return self

    def __exit__(self, *_exc) -> None:
        def stop():
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)
