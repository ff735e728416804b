"""``/tokens`` (admin only): create, list, revoke. Revocation is a state change; nothing is deleted."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from collector.api.context import Administrator, Context
from collector.api.routes.params import ObjectId
from collector.api.schemas import AUTH, NOT_FOUND, TokenCreated, TokenCreateRequest, TokenView
from collector.api.tokens import TokenError, issue, public_view, revoke

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=AUTH)


@router.get("", response_model=list[TokenView])
async def list_tokens(ctx: Context, actor: Administrator) -> list[TokenView]:
    return [
        TokenView.model_validate(public_view(item.source)) for item in await ctx.store.list_tokens(10_000)
    ]


@router.post("", response_model=TokenCreated, status_code=201, responses={422: {}})
async def create_token(body: TokenCreateRequest, ctx: Context, actor: Administrator) -> TokenCreated:
    try:
        issued = await issue(
            ctx.store, role=body.role, agency=body.agency, name=body.name, by=actor, now=ctx.clock()
        )
    except TokenError as error:
        raise HTTPException(422, str(error)) from None
    return TokenCreated.model_validate({**public_view(issued.record), "token": issued.secret})


@router.post("/{token_id}/revoke", response_model=TokenView, responses=NOT_FOUND)
async def revoke_token(token_id: ObjectId, ctx: Context, actor: Administrator) -> TokenView:
    try:
        revoked = await revoke(ctx.store, token_id, by=actor, now=ctx.clock())
    except TokenError as error:
        raise HTTPException(404, str(error)) from None
    return TokenView.model_validate(public_view(revoked))
