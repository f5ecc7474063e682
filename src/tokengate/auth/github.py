"""Sign-in with GitHub's OAuth2: no ID token, so the person comes from its user API.

The subject is GitHub's numeric user id (logins can be renamed); the e-mail is the account's
primary e-mail, and only once GitHub has verified it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from pydantic import BaseModel, ConfigDict, RootModel

from tokengate.auth.providers import ExternalProfile, GithubProvider, call_provider, refused

SCOPE = "read:user user:email"
_API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "tokengate",
}


class _Token(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str | None = None
    # GitHub answers a bad code with 200 and an error field
    error: str | None = None


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    login: str
    name: str | None = None


class _Email(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str
    primary: bool = False
    verified: bool = False


class _Emails(RootModel[list[_Email]]):
    pass


def authorization_url(
    provider: GithubProvider, *, redirect_uri: str, state: str, code_challenge: str
) -> str:
    """Where the browser is sent to sign in at GitHub."""
    query = urlencode(
        {
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "allow_signup": "false",
        }
    )
    return f"{provider.authorize_url}?{query}"


async def fetch_profile(
    provider: GithubProvider,
    *,
    http: aiohttp.ClientSession,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> ExternalProfile:
    """Exchange the code and read the account's id, name and verified primary e-mail."""
    token = await call_provider(
        http,
        "POST",
        provider.token_url,
        model=_Token,
        data={
            "client_id": provider.client_id,
            "client_secret": provider.client_secret.get_secret_value(),
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
    )
    if not token.access_token:
        raise refused(token.error or "no access token")
    headers = {**_API_HEADERS, "Authorization": f"Bearer {token.access_token}"}
    user = await call_provider(
        http, "GET", f"{provider.api_url}/user", model=_User, headers=headers
    )
    emails = await call_provider(
        http, "GET", f"{provider.api_url}/user/emails", model=_Emails, headers=headers
    )
    primary = next((e for e in emails.root if e.primary and e.verified), None)
    if primary is None:
        raise refused("the GitHub account has no verified primary e-mail")
    return ExternalProfile(
        provider=provider.name,
        subject=str(user.id),
        email=primary.email.strip().lower(),
        name=user.name or user.login,
    )
