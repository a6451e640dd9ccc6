from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from orchestrator.accounts.deps import CurrentUser
from orchestrator.accounts.schemas import AccountDeletedOut, RefreshRequest, SignUpRequest, TokenOut, UserOut, UserPatch
from orchestrator.accounts.service import TokenPair
from orchestrator.accounts.users import User
from orchestrator.http.responses import AUTHENTICATED, error_responses
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1", tags=["accounts"])


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name, created_at=user.created_at)


def token_out(pair: TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(409, 422, 503, descriptions={
                 409: "An account with this email already exists",
                 422: "Invalid email, weak password (the rule it breaks) or display name too long"}),
             summary="Create an account")
async def sign_up(body: SignUpRequest, services: ServicesDep) -> UserOut:
    return user_out(await services.accounts.sign_up(str(body.email), body.password, body.display_name))


@router.post("/auth/token", response_model=TokenOut, responses=error_responses(
                 401, 422, 429, 503, descriptions={
                     401: "Wrong email or password",
                     429: "Too many failed logins for this email or from this client, or a rate limit"}),
             summary="OAuth2 password flow: username = email")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
                services: ServicesDep) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    return token_out(await services.accounts.login(form.username, form.password, client))


@router.post("/auth/refresh", response_model=TokenOut, responses=error_responses(
                 401, 422, 503, descriptions={401: "The refresh token is invalid, expired, used or revoked"}),
             summary="Trade a refresh token (usable once) for a new pair")
async def refresh(body: RefreshRequest, services: ServicesDep) -> TokenOut:
    return token_out(await services.accounts.refresh(body.refresh_token))


@router.get("/users/me", response_model=UserOut, responses=error_responses(*AUTHENTICATED))
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.patch("/users/me", response_model=UserOut, responses=error_responses(*AUTHENTICATED, 403, 422, descriptions={
                  403: "Changing the password needs the right current_password"}),
              summary="Change the display name and/or the password (needs current_password)")
async def update_me(body: UserPatch, user: CurrentUser, services: ServicesDep) -> UserOut:
    updated = await services.accounts.update_profile(user, body.display_name, body.password, body.current_password)
    return user_out(updated)


@router.delete("/users/me", response_model=AccountDeletedOut, responses=error_responses(*AUTHENTICATED),
               summary="Delete the account and everything it owns")
async def delete_me(user: CurrentUser, services: ServicesDep) -> AccountDeletedOut:
    return AccountDeletedOut(deleted=await services.accounts.delete_account(user.id))
