"""TOKENGATE_OIDC_PROVIDERS: read at start-up, and a mistake stops the start with a clear
message."""

from __future__ import annotations

import json

import pytest

from tests.auth.browser_support import signin_settings
from tokengate.app import create_app
from tokengate.auth.providers import GithubProvider, OidcProvider, parse_providers
from tokengate.errors import ConfigError

GITHUB = {"name": "github", "kind": "github", "client_id": "a", "client_secret": "b"}
KEYCLOAK = {
    "name": "keycloak",
    "kind": "oidc",
    "label": "Newsroom SSO",
    "client_id": "tokengate",
    "client_secret": "client-secret-value",
    "issuer": "https://sso.example.com/realms/newsroom/",
}


def test_providers_are_read_into_typed_configs() -> None:
    providers = parse_providers(
        json.dumps(
            [KEYCLOAK, {"name": "github", "kind": "github", "client_id": "a", "client_secret": "b"}]
        )
    )

    keycloak, github = providers["keycloak"], providers["github"]
    assert isinstance(keycloak, OidcProvider)
    assert keycloak.issuer == "https://sso.example.com/realms/newsroom"
    assert keycloak.client_auth == "client_secret_basic"
    assert keycloak.title == "Newsroom SSO"
    assert isinstance(github, GithubProvider)
    assert github.token_url == "https://github.com/login/oauth/access_token"
    assert github.api_url == "https://api.github.com"
    assert github.title == "github"
    assert "client-secret-value" not in repr(keycloak)


def test_no_providers_is_fine() -> None:
    assert parse_providers("[]") == {}
    assert parse_providers("") == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "TOKENGATE_OIDC_PROVIDERS is invalid"),
        (json.dumps({"name": "x"}), "a JSON list of provider objects"),
        (json.dumps([{**KEYCLOAK, "kind": "saml"}]), "entry 1"),
        (json.dumps([{k: v for k, v in KEYCLOAK.items() if k != "issuer"}]), "entry 1 issuer"),
        (json.dumps([{**KEYCLOAK, "issuer": "sso.example.com"}]), "must be an http(s) URL"),
        (json.dumps([{**KEYCLOAK, "name": "Has Spaces"}]), "entry 1 name"),
        (json.dumps([{**KEYCLOAK, "name": "mfa"}]), "'mfa' is reserved"),
        (json.dumps([{**KEYCLOAK, "clientid": "typo"}]), "entry 1 clientid"),
        (json.dumps([KEYCLOAK, KEYCLOAK]), "two providers are named 'keycloak'"),
    ],
)
def test_a_malformed_setting_is_a_config_error_naming_the_problem(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match="TOKENGATE_OIDC_PROVIDERS") as error:
        parse_providers(raw)

    assert message in str(error.value)
    assert "client-secret-value" not in str(error.value)


def test_the_app_does_not_start_with_a_malformed_setting(database_url: str) -> None:
    settings = signin_settings(database_url)
    broken = settings.model_copy(update={"oidc_providers": '[{"kind": "oidc"}]'})

    with pytest.raises(ConfigError, match="entry 1 name: Field required"):
        create_app(broken)
