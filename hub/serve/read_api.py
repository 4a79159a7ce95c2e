"""The read API of ``peyvand serve``: customers, quarantine and events over HTTP, and
Prometheus metrics.

Every endpoint needs a bearer token with the ``read`` scope (``admin`` includes it).
``/metrics`` too, and ``read`` is enough: its numbers are counts with no personal data,
so it does not need ``admin`` (which also shows quarantined records' raw values: a
monitoring system should never hold that); and it is not public either, because the
counts describe the business (customers, volumes) and each scrape costs the store a few
queries, while the service may sit behind an internet-facing proxy. Quarantined records'
``raw`` values are personal data, and hold every column of the source row, also those
the mapping never takes into the master: only an ``admin`` token sees them.

Store reads block, so every endpoint is a plain ``def`` (FastAPI runs it in its thread
pool) and the event loop keeps serving. A parameter that cannot be taken is answered
422 with a sentence and the parameter named, like the intake's errors, rather than
FastAPI's default shape.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations,
# and they name this closure's own values (the ``caller`` dependency).
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field

from hub.app import Hub
from hub.serve.auth import AuthError, Tokens
from hub.serve.metrics import RequestMetrics, registry_for
from hub.serve.read_models import (
    Customer,
    CustomerSummary,
    ErrorAnswer,
    EventEnvelope,
    EventPage,
    InvalidAnswer,
    Moved,
    QuarantineItem,
    QuarantinePage,
    SearchAnswer,
)

MAX_PAGE = 1000
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"    # PostgreSQL text holds no NUL; no name holds these
# The largest id or seq a store can hold (SQLite INTEGER, PostgreSQL BIGINT): a larger
# offset cannot name anything, and the driver would fail on it (a 500, found by the fuzz
# run), so it is refused as a parameter (422) instead.
MAX_SEQ = 2**63 - 1
_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "No bearer token, or one not known."},
    403: {"model": ErrorAnswer, "description": "The token has no read scope."},
    422: {"model": InvalidAnswer, "description": "A parameter that cannot be taken, named."},
    503: {"model": ErrorAnswer, "description": "The store does not answer now; try again."},
}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"At most this many (1-{MAX_PAGE}).")]
SearchText = Annotated[str, Query(
    min_length=1, max_length=200, pattern=PRINTABLE, description=(
        "An e-mail, a phone in any form, a national code, a source record's system/id, "
        "or a name in any script."))]
EventType = Annotated[str, Field(pattern=PRINTABLE, max_length=64)]
# Documents the bearer scheme in /openapi.json; Tokens.require does the checking.
_bearer = HTTPBearer(auto_error=False, description="A token with the read scope "
                                                   "(PEYVAND_API_TOKENS).")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is reading: a token with the read scope, and whether it has admin too."""

    admin: bool


class _ReadRoute(APIRoute):
    """Answers a parameter that cannot be taken with a sentence naming it (422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                fields = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "(the request)",
                           "problem": e["msg"]} for e in exc.errors()]
                named = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
                return JSONResponse({"error": f"the request cannot be taken: {named}",
                                     "fields": fields}, status_code=422)

        return route


def read_router(hub: Hub, tokens: Tokens, app: FastAPI) -> APIRouter:
    """The read endpoints over ``hub``, let in by ``tokens``.

    Also puts the request metrics middleware on ``app``, so that ``/metrics`` counts every
    route, the intake's too, and create_app registers the whole read side in one line.
    """
    registry = registry_for(hub.engine)
    app.add_middleware(RequestMetrics, registry=registry)

    async def caller(request: Request, _: Annotated[Any, Depends(_bearer)]) -> Caller:
        authorization = request.headers.get("authorization")
        tokens.require(authorization, "read")
        try:
            tokens.require(authorization, "admin")
        except AuthError:
            return Caller(admin=False)
        return Caller(admin=True)

    router = APIRouter(tags=["read"], route_class=_ReadRoute, responses=_REFUSED,
                       dependencies=[Depends(caller)])

    @router.get("/customers", summary="Find customers by e-mail, phone, national code, "
                                      "system/id or name.")
    def search(q: SearchText, limit: Limit = 20) -> SearchAnswer:
        return SearchAnswer(customers=[CustomerSummary.of(found)
                                       for found in hub.search(q, limit=limit)])

    @router.get("/customers/{master_id}", summary="One customer, with the source of "
                                                  "every value.",
                responses={308: {"model": Moved, "description": "Merged into another: "
                                 "Location is the survivor."},
                           404: {"model": ErrorAnswer, "description": "No such customer."}},
                response_model=Customer)
    def customer(master_id: Annotated[str, Path(max_length=64, pattern=PRINTABLE)],
                 request: Request) -> Any:
        view = hub.customer(master_id)
        if view is None:
            return JSONResponse({"error": f"no customer {master_id}"}, status_code=404)
        if view.resolved_from is not None:
            location = f"{request.scope.get('root_path', '')}/customers/{view.id}"
            return JSONResponse({"merged_into": view.id, "location": location},
                                status_code=308, headers={"Location": location})
        return Customer.of(view)

    @router.get("/quarantine", summary="What waits in quarantine, oldest first.")
    def quarantined(
            who: Annotated[Caller, Depends(caller)],
            status: Annotated[Literal["open", "resolved", "all"], Query(
                description="open (the default), resolved, or all.")] = "open",
            after: Annotated[int, Query(alias="from", ge=0, le=MAX_SEQ, description=(
                "Only entries with a larger id (the `next` of the last page)."))] = 0,
            limit: Limit = 100) -> QuarantinePage:
        entries = hub.quarantine(status=None if status == "all" else status, after=after,
                                 limit=limit)
        return QuarantinePage(
            entries=[QuarantineItem.of(e, with_raw=who.admin) for e in entries],
            next=entries[-1].id if entries else after)

    @router.get("/events", summary="The event log from an offset, for polling consumers.")
    def events(after: Annotated[int, Query(alias="from", ge=0, le=MAX_SEQ, description=(
                   "Events with a larger seq (0: from the start; the `next` of the last "
                   "page to continue)."))] = 0,
               limit: Limit = 100,
               types: Annotated[list[EventType] | None, Query(alias="type", description=(
                   "Only these event types (repeat the parameter)."))] = None) -> EventPage:
        page = hub.events(after=after, limit=limit, types=types)
        return EventPage(events=[EventEnvelope.of(e) for e in page],
                         next=page[-1].seq if page else after)

    @router.get("/metrics", tags=["operations"], response_class=Response,
                summary="Prometheus metrics (text exposition format).",
                responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                 "description": "The metrics, as Prometheus reads them."}})
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
