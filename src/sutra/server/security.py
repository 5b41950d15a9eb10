"""Who is calling, and may they touch this space? FastAPI dependencies used by every route.

A caller presents `Authorization: Bearer <token or API key>`: a login token (`st.…`, signed, expiring)
or an API key (`sk-sutra-…`). Each caller has a token bucket (per key, per token's user, or per client
address before login). A space answers only its members: to anyone else it does not exist (404), so its
name is not confirmed either; a member whose role is too low gets 403. In dev mode there is no
authentication and every caller is an admin of every space (the server then binds loopback only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sutra.server.accounts import KEY_PREFIX, RANK, Role, User
from sutra.server.errors import ApiError
from sutra.server.spaces import Space
from sutra.server.state import state_of

bearer = HTTPBearer(auto_error=False, description="A login token (POST /v1/auth/login) or an API key.")
SpaceName = Path(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="The space.")


@dataclass(frozen=True, slots=True)
class Caller:
    user: User | None  # None only in dev mode
    identity: str  # what the rate limit counts against

    @property
    def is_server_admin(self) -> bool:
        return self.user is None or self.user.is_admin


def _limit(request: Request, identity: str) -> None:
    wait = state_of(request).limiter.take(identity)
    if wait > 0:
        from sutra.server.ratelimit import RateLimiter

        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; retry in {wait:.2f} s",
            {"Retry-After": RateLimiter.retry_after(wait)},
        )


def _limit_address(request: Request) -> None:
    _limit(request, "addr:" + (request.client.host if request.client else "?"))


async def client_limited(request: Request) -> None:
    """Rate limit for calls made before authenticating (login), by client address."""
    _limit_address(request)


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    state = state_of(request)
    if state.config.dev:
        caller = Caller(None, "dev:" + (request.client.host if request.client else "?"))
        _limit(request, caller.identity)
        return caller
    if credentials is None:
        _limit_address(request)
        raise ApiError(
            401,
            "unauthenticated",
            "send Authorization: Bearer <token or API key>",
            {"WWW-Authenticate": "Bearer"},
        )
    secret = credentials.credentials
    user: User | None = None
    identity = ""
    if secret.startswith(KEY_PREFIX):
        found = state.accounts.user_by_key(secret)
        if found:
            user, digest = found
            identity = "key:" + digest
    else:
        user_id = state.signer.verify(secret)
        if user_id is not None:
            user = state.accounts.user_by_id(user_id)
            identity = f"user:{user_id}"
    if user is None:
        _limit_address(request)
        raise ApiError(
            401,
            "invalid_credentials",
            "the token or API key is not valid (or has expired)",
            {"WWW-Authenticate": "Bearer"},
        )
    _limit(request, identity)
    return Caller(user, identity)


async def require_server_admin(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_server_admin:
        raise ApiError(403, "forbidden", "only a server admin may do this")
    return caller


def role_of(request: Request, caller: Caller, space: str) -> Role | None:
    if caller.user is None:
        return "admin" if state_of(request).accounts.space_exists(space) else None
    return state_of(request).accounts.role(space, caller.user.id)


async def open_space(request: Request, caller: Caller, name: str, minimum: Role) -> Space:
    """The space, if the caller is a member with at least `minimum`; 404 to non-members, 403 if too low."""
    role = role_of(request, caller, name)
    if role is None:
        raise ApiError(404, "space_not_found", f"no space {name!r} that you are a member of")
    if RANK[role] < RANK[minimum]:
        raise ApiError(403, "forbidden", f"this needs the {minimum} role in space {name!r}; you are {role}")
    spaces = state_of(request).spaces
    opened = spaces.opened(name)
    if opened is not None:
        return opened
    # the first use opens the store (recovery reads its snapshot and WAL): not on the event loop
    return await anyio.to_thread.run_sync(spaces.get, name, limiter=spaces.limiter)


def member(minimum: Role):  # type: ignore[no-untyped-def]
    """Dependency: the named space, for a caller with at least `minimum` there."""

    async def dependency(
        request: Request, caller: Annotated[Caller, Depends(current_caller)], space: str = SpaceName
    ) -> Space:
        return await open_space(request, caller, space, minimum)

    return dependency


reader = member("reader")
writer = member("writer")
space_admin = member("admin")
CurrentCaller = Annotated[Caller, Depends(current_caller)]
ServerAdmin = Annotated[Caller, Depends(require_server_admin)]
ReaderSpace = Annotated[Space, Depends(reader)]
WriterSpace = Annotated[Space, Depends(writer)]
AdminSpace = Annotated[Space, Depends(space_admin)]
