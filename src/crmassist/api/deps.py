"""FastAPI dependencies: the runtime, and the principal behind every request's API key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crmassist.access.directory import principal_for
from crmassist.access.keys import principal_for_key
from crmassist.access.principal import Principal
from crmassist.db import session_scope
from crmassist.domain.enums import Role
from crmassist.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An API key from `crmassist users key`.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


LOCAL_USER_HEADER = "X-Crmassist-User"


def get_principal(
    request: Request,
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    acting_as: Annotated[
        str | None,
        Header(
            alias=LOCAL_USER_HEADER,
            max_length=64,
            include_in_schema=False,
            description="With the local credential only: the user the CLI acts as.",
        ),
    ] = None,
) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "an API key is required: Authorization: Bearer <key>", challenge)
    if _is_local(request, credentials.credentials):
        local = _local_principal(rt, acting_as)
        request.state.user_id = local.user_id
        return local
    with session_scope(rt.sessions) as session:
        principal = principal_for_key(session, credentials.credentials)
    if principal is None:
        raise HTTPException(401, "invalid or revoked API key", challenge)
    request.state.user_id = principal.user_id
    return principal


def _is_local(request: Request, presented: str) -> bool:
    """The credential of `<data_dir>/service.json` (see crmassist.discovery)."""
    token: str | None = getattr(request.app.state, "local_token", None)
    return token is not None and secrets.compare_digest(presented, token)


def _local_principal(rt: Runtime, user_id: str | None) -> Principal:
    """The CLI beside the service acts as the user it names, as `--as` does locally."""
    if not user_id:
        raise HTTPException(401, f"the local credential acts for a user: {LOCAL_USER_HEADER}")
    with rt.sessions() as session:
        try:
            return principal_for(session, user_id)
        except LookupError as exc:
            raise HTTPException(401, str(exc.args[0])) from exc


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise HTTPException(403, "only admins may do this")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]
