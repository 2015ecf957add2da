"""The action server: rasa_sdk's own command line, with the operators' routes.

    python -m actions.server --actions actions --port 5055 (the same arguments as rasa_sdk)

`/metrics`, `/health/live` and `/health/ready` (Redis answering, the knowledge base loaded)
are added through rasa_sdk's plugin hook (`attach_sanic_app_extensions`); each action's run
time is measured around the `/webhook` request; the knowledge base is loaded before the
server listens, so that the first customer does not wait for it. Log lines are masked, and
JSON with TERANGA_LOG_FORMAT=json from the moment rasa_sdk sets up its logging.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zlib

import pluggy
from rasa_sdk import utils as rasa_sdk_utils
from rasa_sdk.__main__ import main as rasa_sdk_main
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic

from actions.actions import handoff_store, live_knowledge_base
from teranga.observability import metrics
from teranga.observability.endpoints import add_observability
from teranga.observability.health import is_true, redis_answers
from teranga.observability.logs import set_conversation, use_log_format
from teranga.settings import Settings

hookimpl = pluggy.HookimplMarker("rasa_sdk")
ACTION_ROUTE = "/webhook"
_original_configure_colored_logging = rasa_sdk_utils.configure_colored_logging


def _knowledge_base_loaded() -> bool:
    return live_knowledge_base.cache_info().currsize > 0


def _action_call(request) -> dict:
    """The body of an action call, as rasa_sdk reads it (Rasa may deflate it)."""
    try:
        body = zlib.decompress(request.body) \
            if request.headers.get("Content-Encoding") == "deflate" else request.body
        call = json.loads(body)
    except (zlib.error, ValueError):  # rasa_sdk refuses it itself
        return {}
    return call if isinstance(call, dict) else {}


class Operations:
    """rasa_sdk's plugin: the routes, the actions' timing, the knowledge base loaded."""

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        add_observability(app, "actions", {"redis": redis_answers(lambda: handoff_store().client),
                                           "knowledge_base": is_true(_knowledge_base_loaded)})

        @app.before_server_start
        async def load_knowledge_base(*_args) -> None:
            await asyncio.get_running_loop().run_in_executor(None, live_knowledge_base)

        @app.on_request
        async def started(request) -> None:
            if request.path == ACTION_ROUTE:
                call = _action_call(request)
                set_conversation((call.get("tracker") or {}).get("sender_id"))
                request.ctx.action = (call.get("next_action"), time.perf_counter())

        @app.on_response
        async def timed(request, response) -> None:
            action, started = getattr(request.ctx, "action", (None, 0.0))
            if action and response.status != 404:  # 404: no such action here
                metrics.action_ran(action, time.perf_counter() - started)


def _configure_colored_logging(loglevel) -> None:
    """rasa_sdk's handlers, in the configured format from the first line on."""
    _original_configure_colored_logging(loglevel)
    use_log_format(Settings.from_env().log_format, "actions")


def main() -> None:
    use_log_format(Settings.from_env().log_format, "actions")
    rasa_sdk_utils.configure_colored_logging = _configure_colored_logging
    plugin_manager().register(Operations())
    sys.argv[0] = "rasa_sdk"
    rasa_sdk_main()


if __name__ == "__main__":
    main()
