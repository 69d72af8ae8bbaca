"""FastAPI dependencies: the runtime, and the principal behind every request's API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def get_principal(
    request: Request,
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "an API key is required: Authorization: Bearer <key>", challenge)
    with session_scope(rt.sessions) as session:
        principal = principal_for_key(session, credentials.credentials)
    if principal is None:
        raise HTTPException(401, "invalid or revoked API key", challenge)
    request.state.user_id = principal.user_id
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise HTTPException(403, "only admins may do this")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]
