"""Shared fixtures: the model is trained once per test run and reused everywhere."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pytest
import redis

from teranga import corpora, runtime
from teranga.nlu.langid import LanguageIdentifier
from teranga.settings import PROJECT_ROOT

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
TEST_REDIS_URL = os.environ.get("TERANGA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A PostgreSQL server the tests may create databases on (.ci/run starts one if none answers).
TEST_POSTGRES_URL = os.environ.get("TERANGA_TEST_POSTGRES_URL",
                                   "postgresql://postgres@127.0.0.1:5432/postgres")


# What a test trains before it runs: such tests are marked `model` and left out of
# `make test-fast` (pyproject.toml's markers; files that train otherwise mark themselves).
TRAINING_FIXTURES = {"trained_model", "langid_model"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session", autouse=True)
def project_root() -> Path:
    os.chdir(PROJECT_ROOT)  # config.yml names data folders relative to the project
    return PROJECT_ROOT


@pytest.fixture(scope="session", autouse=True)
def insights_database(tmp_path_factory):
    """The analytics store of every test that does not choose one: a file of this run's,
    never the project's own `.teranga/insights.db`."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("insights") / "insights.db"
        patch.setenv("TERANGA_INSIGHTS_URL", f"sqlite:///{path}")
        yield path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """The assistant's model, trained on the project's data in this run."""
    return runtime.train(tmp_path_factory.mktemp("models"), force=True)


@pytest.fixture(scope="session")
def langid_examples() -> list[tuple[str, str]]:
    """What the language detector trains on, with its default config."""
    from addons.components import LanguageDetector  # Rasa's import: only for the tests using it

    config = LanguageDetector.get_default_config()
    return list(corpora.language_examples(Path(config["nlu_dir"]), Path(config["corpora_dir"]),
                                          config["max_corpus_lines"]))


@pytest.fixture(scope="session")
def langid_model(langid_examples):
    """The project's fastText language model, trained on NLU examples and corpora."""
    return LanguageIdentifier.train(langid_examples)


@pytest.fixture(scope="session")
def real_redis_url() -> str:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Tests need a real Redis server at {TEST_REDIS_URL} "
                    f"(set TERANGA_TEST_REDIS_URL): {error}")
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the real PostgreSQL server, dropped after the run."""
    import sqlalchemy as sa

    server = sa.create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"teranga_test_{uuid.uuid4().hex[:10]}"
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"Tests need a real PostgreSQL server at {TEST_POSTGRES_URL} "
                    f"(set TERANGA_TEST_POSTGRES_URL): {error}")
    yield server.url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def masking():
    """Personal data masked in log records (teranga/privacy/logs.py) for one test."""
    from teranga.privacy.logs import mask_personal_data_in_logs

    before = logging.getLogRecordFactory()
    mask_personal_data_in_logs()
    yield
    logging.setLogRecordFactory(before)
