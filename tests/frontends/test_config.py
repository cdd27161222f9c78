"""The frontends table: a map of surfaces; unknown keys inside a surface are errors with their path."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.config import ConfigError, load
from verify.registry import discover

BASE = """
[environments.prod]
[environments.prod.frontends.support]
url = "https://support.example.test"
routes = ["/", {{ path = "/login", marker = "Sign in" }}]
{extra}
"""


def _load(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "environments.toml"
    path.write_text(BASE.format(extra=extra))
    return load(path, "prod", discover())


def test_surface_table_loads(tmp_path: Path) -> None:
    env = _load(tmp_path, "")
    table = env.table("frontends")  # type: ignore[attr-defined]
    support = table.root["support"]
    assert [r.path for r in support.route_list()] == ["/", "/login"]
    assert support.route("/login").marker == "Sign in"
    assert support.plain_http_url() == "http://support.example.test"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("routs = []", "environments.prod.frontends.support.routs: unknown key"),
        ('build_id = "latest"', "environments.prod.frontends.support.build_id: "),
        (
            '[environments.prod.frontends.portal]\nurl = "https://p.test"\nroutes = ["/"]\nbudget = 1',
            "environments.prod.frontends.portal.budget: unknown key",
        ),
        (
            "[environments.prod.frontends.support.extra]\nx = 1",
            "frontends.support.extra: unknown key",
        ),
    ],
)
def test_unknown_or_bad_keys_name_their_path(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, extra)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_edge_url_must_be_https(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text(
        '[environments.prod.frontends.support]\nurl = "http://s.test"\nroutes = ["/"]\n'
    )
    with pytest.raises(ConfigError, match=r"frontends\.support\.url: must start with https://"):
        load(path, "prod", discover())


def test_route_paths_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text(
        '[environments.prod.frontends.support]\nurl = "https://s.test"\nroutes = ["login", "/"]\n'
    )
    with pytest.raises(
        ConfigError, match=r"frontends\.support\.routes\.0\.path: must start with '/'"
    ):
        load(path, "prod", discover())


def test_repository_environments_configure_both_surfaces() -> None:
    from tests.conftest import REPO

    for name in ("dev", "staging", "prod", "local"):
        env = load(REPO / "environments.toml", name, discover())
        assert set(env.table("frontends").root) == {"support", "portal"}
