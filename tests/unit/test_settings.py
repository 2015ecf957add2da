import pytest

from teranga.settings import masked, rasa_environment


def test_redis_url_is_split_for_endpoints_yml_with_the_password_decoded():
    env = rasa_environment("redis://:p%40ss%2Fw@redis.internal:6380/2", "http://127.0.0.1:5055")
    assert (env["TERANGA_REDIS_HOST"], env["TERANGA_REDIS_PORT"], env["TERANGA_REDIS_DB"]) == \
        ("redis.internal", "6380", "2")
    assert env["TERANGA_REDIS_PASSWORD"] == "p@ss/w"
    assert env["TERANGA_ACTION_ENDPOINT"] == "http://127.0.0.1:5055/webhook"


def test_passwords_never_reach_the_logs():
    assert masked("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert masked("redis://host:6379/0") == "redis://host:6379/0"
    with pytest.raises(ValueError) as error:
        rasa_environment("rediss://:s3cret@host:6379/0", "http://x")
    assert "s3cret" not in str(error.value)
