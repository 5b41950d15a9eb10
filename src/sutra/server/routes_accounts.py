"""Accounts: log in, who am I, users (server admins), API keys, spaces and their members.

Nobody changes their own role: a member's role is set by another admin of the space. Creating a space
makes its first admin the caller or a named user; that is the only way a role appears without a grant.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from sutra.server.accounts import KEY_ID_CHARS, User, key_digest
from sutra.server.errors import ApiError
from sutra.server.responses import WITH_INPUT, json_response
from sutra.server.schemas import (
    KeyIn,
    KeyOut,
    KeysOut,
    LoginIn,
    MemberIn,
    MemberOut,
    MembersOut,
    SpaceIn,
    SpaceOut,
    SpacesOut,
    TokenOut,
    UserIn,
    UserOut,
    UsersOut,
    WhoAmI,
)
from sutra.server.security import AdminSpace, Caller, CurrentCaller, ServerAdmin, client_limited
from sutra.server.state import state_of

router = APIRouter(prefix="/v1", tags=["accounts"], responses=WITH_INPUT)
UserName = Annotated[str, Path(min_length=1, max_length=63)]


@router.post("/auth/login", response_model=TokenOut, summary="Exchange a password for a signed token")
async def login(body: LoginIn, request: Request, _: Annotated[None, Depends(client_limited)]) -> Response:
    state = state_of(request)
    user = await anyio.to_thread.run_sync(state.accounts.verify_password, body.username, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "wrong user name or password")
    token, expires = state.signer.issue(user.id)
    return json_response({"token": token, "token_type": "bearer", "expires_at": expires})


def _spaces_of(request: Request, caller: Caller) -> list[dict[str, str]]:
    accounts = state_of(request).accounts
    if caller.user is None:
        return [{"name": name, "role": "admin"} for name in accounts.spaces()]
    return [{"name": name, "role": role} for name, role in accounts.memberships(caller.user.id)]


@router.get("/me", response_model=WhoAmI, summary="The caller and their spaces")
async def me(request: Request, caller: CurrentCaller) -> Response:
    name = caller.user.name if caller.user else None
    return json_response(
        {"user": name, "is_admin": caller.is_server_admin, "spaces": _spaces_of(request, caller)}
    )


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user (server admins)")
async def create_user(body: UserIn, request: Request, _: ServerAdmin) -> Response:
    accounts = state_of(request).accounts
    user = await anyio.to_thread.run_sync(
        lambda: accounts.create_user(body.name, body.password, is_admin=body.is_admin)
    )
    return json_response({"name": user.name, "is_admin": user.is_admin}, 201)


@router.get("/users", response_model=UsersOut, summary="List users (server admins)")
async def list_users(request: Request, _: ServerAdmin) -> Response:
    users = state_of(request).accounts.users()
    return json_response({"users": [{"name": u.name, "is_admin": u.is_admin} for u in users]})


@router.post("/keys", response_model=KeyOut, status_code=201, summary="Create an API key acting as you")
async def create_key(body: KeyIn, request: Request, caller: CurrentCaller) -> Response:
    if caller.user is None:
        raise ApiError(400, "dev_mode", "dev mode has no users, so no keys; no key is needed either")
    key = state_of(request).accounts.create_key(caller.user, body.label)
    key_id = key_digest(key)[:KEY_ID_CHARS]
    return json_response({"key": key, "id": key_id, "label": body.label}, 201)


def _user_of(caller: Caller) -> User:
    if caller.user is None:
        raise ApiError(400, "dev_mode", "dev mode has no users, so no keys")
    return caller.user


@router.get("/keys", response_model=KeysOut, summary="Your API keys (ids and labels, never the keys)")
async def list_keys(request: Request, caller: CurrentCaller) -> Response:
    found = state_of(request).accounts.keys(_user_of(caller))
    return json_response({"keys": [{"id": i, "label": label, "created": c} for i, label, c in found]})


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke one of your API keys")
async def revoke_key(
    key_id: Annotated[str, Path(min_length=1, max_length=64)], request: Request, caller: CurrentCaller
) -> Response:
    if not state_of(request).accounts.revoke_key(_user_of(caller), key_id):
        raise ApiError(404, "key_not_found", f"you have no API key {key_id!r}; GET /v1/keys lists yours")
    return Response(status_code=204)


@router.get("/spaces", response_model=SpacesOut, summary="The spaces you are a member of")
async def list_spaces(request: Request, caller: CurrentCaller) -> Response:
    return json_response({"spaces": _spaces_of(request, caller)})


def _user(request: Request, name: str) -> User:
    user = state_of(request).accounts.user_by_name(name)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user {name!r}")
    return user


@router.post("/spaces", response_model=SpaceOut, status_code=201, summary="Create a space (server admins)")
async def create_space(body: SpaceIn, request: Request, caller: ServerAdmin) -> Response:
    state = state_of(request)
    first_admin = _user(request, body.admin) if body.admin else caller.user
    await anyio.to_thread.run_sync(state.spaces.create, body.name)
    if first_admin is not None:
        state.accounts.set_role(body.name, first_admin, "admin")
    mine = first_admin is None or (caller.user is not None and first_admin.id == caller.user.id)
    return json_response({"name": body.name, "role": "admin" if mine else "reader"}, 201)


@router.get("/spaces/{space}/members", response_model=MembersOut, summary="Members and roles (space admins)")
async def members(request: Request, space: AdminSpace) -> Response:
    found = state_of(request).accounts.members(space.name)
    return json_response({"members": [{"user": u, "role": r} for u, r in found]})


def _not_self(caller: Caller, user: User) -> None:
    if caller.user is not None and caller.user.id == user.id:
        raise ApiError(403, "self_grant", "nobody changes their own role; ask another admin of the space")


@router.put(
    "/spaces/{space}/members/{user}", response_model=MemberOut, summary="Give a user a role (space admins)"
)
async def set_member(
    user: UserName,
    body: MemberIn,
    request: Request,
    space: AdminSpace,
    caller: CurrentCaller,
) -> Response:
    target = _user(request, user)
    _not_self(caller, target)
    state_of(request).accounts.set_role(space.name, target, body.role)
    return json_response({"user": target.name, "role": body.role})


@router.delete("/spaces/{space}/members/{user}", status_code=204, summary="Remove a member (space admins)")
async def remove_member(
    user: UserName,
    request: Request,
    space: AdminSpace,
    caller: CurrentCaller,
) -> Response:
    target = _user(request, user)
    _not_self(caller, target)
    if not state_of(request).accounts.remove_member(space.name, target):
        raise ApiError(404, "not_a_member", f"{target.name!r} is not a member of {space.name!r}")
    return Response(status_code=204)
