from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from orchestrator.api.deps import AccountsDep, CurrentUserDep
from orchestrator.schemas import (
    AccountDeletedOut,
    ErrorOut,
    RefreshRequest,
    SignUpRequest,
    TokenOut,
    UserOut,
    UserPatch,
)
from orchestrator.services.accounts import TokenPair

router = APIRouter(prefix="/v1", tags=["accounts"])
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 422: {"model": ErrorOut}}


def user_out(document: dict[str, Any]) -> UserOut:
    return UserOut(id=str(document["_id"]), email=document["email"], display_name=document.get("display_name"),
                   created_at=document["created_at"])


def token_out(pair: TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}}, summary="Create an account")
async def sign_up(body: SignUpRequest, accounts: AccountsDep) -> UserOut:
    return user_out(await accounts.sign_up(str(body.email), body.password, body.display_name))


@router.post("/auth/token", response_model=TokenOut, responses={**AUTH_ERRORS, 429: {"model": ErrorOut}},
             summary="OAuth2 password flow: username = email")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
                accounts: AccountsDep) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    return token_out(await accounts.login(form.username, form.password, client))


@router.post("/auth/refresh", response_model=TokenOut, responses=AUTH_ERRORS,
             summary="Trade a refresh token (usable once) for a new pair")
async def refresh(body: RefreshRequest, accounts: AccountsDep) -> TokenOut:
    return token_out(await accounts.refresh(body.refresh_token))


@router.get("/users/me", response_model=UserOut, responses=AUTH_ERRORS)
async def me(user: CurrentUserDep) -> UserOut:
    return user_out(user)


@router.patch("/users/me", response_model=UserOut, responses={**AUTH_ERRORS, 403: {"model": ErrorOut}},
              summary="Change the display name and/or the password (needs current_password)")
async def update_me(body: UserPatch, user: CurrentUserDep, accounts: AccountsDep) -> UserOut:
    return user_out(await accounts.update_profile(user, body.display_name, body.password, body.current_password))


@router.delete("/users/me", response_model=AccountDeletedOut, responses=AUTH_ERRORS,
               summary="Delete the account and everything it owns")
async def delete_me(user: CurrentUserDep, accounts: AccountsDep) -> AccountDeletedOut:
    return AccountDeletedOut(deleted=await accounts.delete_account(str(user["_id"])))
