"""`[store]` (issue 15): the file store by default; PostgreSQL with a url that never holds the
password, which comes from the environment variable `password_env`."""

from __future__ import annotations

import pytest

from conftest import make_config
from leakline.config import ConfigError


def test_the_file_store_is_the_default(tmp_path):
    config = make_config(tmp_path)
    assert (config.store.backend, config.store.shared) == ("tinydb", False)


def test_postgresql_with_url_and_password_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLINE_DB_PASSWORD", "s3cret")
    config = make_config(tmp_path, store={"backend": "postgresql",
                                          "url": "postgresql://leakline@db1:5432/leakline",
                                          "password_env": "LEAKLINE_DB_PASSWORD"})
    assert config.store.shared and config.store.password() == "s3cret"


@pytest.mark.parametrize("store, says", [
    ({"backend": "postgresql"}, "store.url: required"),
    ({"backend": "postgresql", "url": "mysql://db1/x"}, "store.url: required"),
    ({"backend": "postgresql", "url": "postgresql://leakline:pw@db1/leakline"}, "holds a password"),
    ({"backend": "postgresql", "url": "postgresql://leakline@db1/leakline", "password": "pw"},
     "passwords are not kept in the config file"),
    ({"backend": "postgres"}, "store.backend"),
    ({"backend": "tinydb", "uri": "x"}, "uri"),
])
def test_a_wrong_store_section_is_refused_with_the_reason(tmp_path, store, says):
    with pytest.raises(ConfigError, match=says):
        make_config(tmp_path, store=store)
