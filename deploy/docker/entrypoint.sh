#!/bin/sh
# The image's entry point. Its first argument picks the process; this is the one place in the
# image that names each process's command:
#   rasa     the Rasa server (channels, web chat, HTTP API), port 5005
#   actions  the action server, port 5055
#   desk     the agents' desk, port 5010
# Anything else runs as given, such as `teranga agents list` or `teranga privacy purge`.
# Secrets come from the environment only (docs/configuration.md, docs/deploying.md).
set -eu

PORT_RASA=5005
PORT_ACTIONS=5055
PORT_DESK=5010

require_api_token() {
    : "${TERANGA_API_TOKEN:?is not set: the Rasa HTTP API secret (16+ characters), from a secret}"
}

# endpoints.yml's variables, derived from REDIS_URL and TERANGA_ACTIONS_URL as `teranga demo`
# derives them (teranga/settings.py), printed as `export` lines; and credentials.yml less the
# channels whose variables are not set, written to $1 (each channel left out is named).
rasa_environment() {
    python - "$1" <<'PY'
import shlex
import sys
from pathlib import Path

from teranga.channels.credentials import enabled_channels
from teranga.settings import PROJECT_ROOT, Settings, rasa_environment

settings = Settings.from_env()
redis_url = settings.require_redis_url("the Rasa server")
for name, value in rasa_environment(redis_url, settings.actions_url).items():
    print(f"export {name}={shlex.quote(value)}")
for channel, missing in enabled_channels(PROJECT_ROOT / "credentials.yml",
                                         Path(sys.argv[1])).items():
    print(f"Channel {channel} is off: set {', '.join(missing)}", file=sys.stderr)
PY
}

case "${1:-rasa}" in
    rasa)
        require_api_token
        credentials="${TMPDIR:-/tmp}/teranga-credentials.yml"
        exports=$(rasa_environment "$credentials")
        eval "$exports"
        exec python -m addons.rasa_server run --model models/teranga.tar.gz --enable-api \
            --endpoints endpoints.yml --credentials "$credentials" --port "$PORT_RASA"
        ;;
    actions)
        : "${REDIS_URL:?is not set: the action server queues hand-overs in Redis}"
        exec python -m actions.server --actions actions --port "$PORT_ACTIONS"
        ;;
    desk)
        require_api_token
        : "${REDIS_URL:?is not set: the desk shares Redis with the assistant}"
        : "${TERANGA_RASA_URL:?is not set: the Rasa servers HTTP API, such as http://rasa:5005}"
        exec python -m teranga desk --host 0.0.0.0 --port "$PORT_DESK"
        ;;
    *)
        exec "$@"
        ;;
esac
