from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from orchestrator.accounts.schemas import AccountDeletedOut, RefreshRequest, SignUpRequest, TokenOut, UserOut, UserPatch
from orchestrator.accounts.service import TokenPair
from orchestrator.deps import AccountsDep, CurrentUserDep
from orchestrator.http.responses import AUTHENTICATED, error_responses

router = APIRouter(prefix="/v1", tags=["accounts"])


def user_out(document: dict[str, Any]) -> UserOut:
    return UserOut(id=str(document["_id"]), email=document["email"], display_name=document.get("display_name"),
                   created_at=document["created_at"])


def token_out(pair: TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409, 422, 503, descriptions={
                 409: "An account with this email already exists",
                 422: "Invalid email, weak password (the rule it breaks) or display name too long"}),
             summary="Create an account")
async def sign_up(body: SignUpRequest, accounts: AccountsDep) -> UserOut:
    return user_out(await accounts.sign_up(str(body.email), body.password, body.display_name))


@router.post("/auth/token", response_model=TokenOut, responses=error_responses(
                 401, 422, 429, 503, descriptions={
                     401: "Wrong email or password",
                     429: "Too many failed logins for this email or from this client, or a rate limit"}),
             summary="OAuth2 password flow: username = email")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
                accounts: AccountsDep) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    return token_out(await accounts.login(form.username, form.password, client))


@router.post("/auth/refresh", response_model=TokenOut, responses=error_responses(
                 401, 422, 503, descriptions={401: "The refresh token is invalid, expired, used or revoked"}),
             summary="Trade a refresh token (usable once) for a new pair")
async def refresh(body: RefreshRequest, accounts: AccountsDep) -> TokenOut:
    return token_out(await accounts.refresh(body.refresh_token))


@router.get("/users/me", response_model=UserOut, responses=error_responses(*AUTHENTICATED))
async def me(user: CurrentUserDep) -> UserOut:
    return user_out(user)


@router.patch("/users/me", response_model=UserOut, responses=error_responses(*AUTHENTICATED, 403, 422, descriptions={
                  403: "Changing the password needs the right current_password"}),
              summary="Change the display name and/or the password (needs current_password)")
async def update_me(body: UserPatch, user: CurrentUserDep, accounts: AccountsDep) -> UserOut:
    return user_out(await accounts.update_profile(user, body.display_name, body.password, body.current_password))


@router.delete("/users/me", response_model=AccountDeletedOut, responses=error_responses(*AUTHENTICATED),
               summary="Delete the account and everything it owns")
async def delete_me(user: CurrentUserDep, accounts: AccountsDep) -> AccountDeletedOut:
    return AccountDeletedOut(deleted=await accounts.delete_account(str(user["_id"])))
