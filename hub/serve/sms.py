"""SMS in over HTTP: ``POST``/``GET /sms/{gateway}`` and ``/sms/{gateway}/status``.

A gateway is an ``inbox`` pipeline listed under ``serve.sms`` by its name, with the
preset naming its fields (``hub.serve.sms_presets``) and how it proves who it is
(``hub.serve.sms_auth``). An inbound message is normalized (sender in E.164, line, text,
message id, time, and the opt-out or opt-in it states) and stored in the inbox under
the gateway's id of it, so a gateway's retry is stored once; only then is it answered,
``200`` whether new or a retry (gateways retry anything else), in the form the gateway
expects (Twilio: TwiML; Melipayamak: ``OK``; others: JSON with the receipt).

Every ``inbox`` pipeline reading a gateway's channel is run by the background worker,
those that make customers before those that record interactions (``sms_contacts``
before ``sms_in``), so that an unknown number's first message finds the customer it
made (``hub.serve.worker`` says how a message stored between the two is kept out).
The contacts pipeline gives each message a source record of its own, so a consent
statement keeps its message as provenance and the latest one wins
(``hub.survivorship``).

Delivery reports are stored on the channel ``<channel>.status`` of the same inbox, once
per message and state, and answered at once: no pipeline reads them yet. The inbox
rather than a table of their own because it already is the durable, ordered,
deduplicated store of what gateways push, and a later pipeline (a report's state on its
interaction) can read them from the start with the ``inbox`` adapter, without a
migration now for a shape that pipeline will decide.

SMS endpoints are not rate limited: a gateway sends bursts from few addresses and may
not retry a 429, and every endpoint authenticates. A store that stays busy past its own
wait is a 503, as for forms: the gateway sends the message again later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from hub.app import Hub
from hub.mapping import load_mapping
from hub.serve.auth import AuthError, Tokens
from hub.serve.limits import read_body
from hub.serve.payload import BodyProblem, Scalar, checked, form_pairs, joined, parse_json
from hub.serve.settings import SmsSettings
from hub.serve.sms_auth import TWILIO_HEADER, check_twilio, check_url_token
from hub.serve.sms_consent import ConsentWords
from hub.serve.sms_presets import PRESETS, Gateway
from hub.serve.worker import GatewayPipelines, InboxWorker
from hub.store import inbox

log = structlog.get_logger("peyvand.serve")
_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored (or a retry of a message stored before)."},
    401: {"description": "No or a wrong token or signature."},
    403: {"description": "A bearer token without the sms scope."},
    404: {"description": "No such gateway."},
    413: {"description": "The body is too large."},
    415: {"description": "Not a form or JSON body."},
    422: {"description": "No sender, or a field over a limit."},
    503: {"description": "The store is busy; nothing was stored, send it again."}}


@dataclass(frozen=True)
class SmsEndpoint:
    """One gateway: its settings, its inbox channel and its field reader."""

    name: str
    settings: SmsSettings
    channel: str
    gateway: Gateway


class SmsEndpoints:
    """The gateways of ``serve.sms``, the pipelines to run for them, and their routes."""

    def __init__(self, hub: Hub, environ: Mapping[str, str], tokens: Tokens) -> None:
        self.hub, self.environ, self.tokens = hub, environ, tokens
        self.endpoints = {name: _endpoint(hub, name) for name in hub.config.serve.sms}
        self.gateways = {e.channel: _pipelines(hub, e.channel)
                         for e in self.endpoints.values()}

    def worker(self, forms: Sequence[str], form_channels: Sequence[str],
               interval: float) -> InboxWorker:
        """The background worker for the forms' pipelines and the gateways'."""
        return InboxWorker(self.hub, forms, form_channels, self.gateways, interval)

    def router(self, wake: Callable[[], None]) -> APIRouter:
        """The routes; ``wake`` tells the worker a message is waiting."""
        router = APIRouter(tags=["sms"])
        max_body = self.hub.config.serve.max_body_kb * 1024

        @router.get("/sms/{gateway}", summary="An inbound SMS (a gateway that sends GET).",
                    responses=_ANSWERS)
        @router.post("/sms/{gateway}", summary="An inbound SMS (form or JSON body).",
                     responses=_ANSWERS)
        async def inbound(gateway: str, request: Request) -> Response:
            endpoint = self._find(gateway)
            fields = await self._fields(endpoint, request, max_body)
            source_id, payload = endpoint.gateway.message(fields)
            receipt = await run_in_threadpool(self._store, endpoint.channel, payload,
                                              source_id)
            if not receipt.duplicate:
                wake()
            log.info("sms accepted", gateway=gateway, receipt=receipt.source_id,
                     duplicate=receipt.duplicate, consent=payload["sms_consent"] or "-")
            return _answer(endpoint, receipt, "accepted")

        @router.get("/sms/{gateway}/status", summary="A delivery report (GET).",
                    responses=_ANSWERS)
        @router.post("/sms/{gateway}/status", summary="A delivery report (form or JSON).",
                     responses=_ANSWERS)
        async def status(gateway: str, request: Request) -> Response:
            endpoint = self._find(gateway)
            report = endpoint.gateway.report(await self._fields(endpoint, request, max_body))
            receipt = await run_in_threadpool(inbox.accept, self.hub.engine,
                                              f"{endpoint.channel}.status", report.payload,
                                              report.source_id)
            log.info("sms delivery report", gateway=gateway, receipt=receipt.source_id,
                     duplicate=receipt.duplicate)
            return _answer(endpoint, receipt, "recorded")

        return router

    def _store(self, channel: str, payload: Mapping[str, Any], source_id: str
               ) -> inbox.Receipt:
        """Store a message, unless the worker is between the gateway's pipelines: then
        once they are done (``hub.serve.worker``). One try: the store's own busy wait
        is the patience a request has; then 503, and the gateway sends it again."""
        with self.gateways[channel].gate:
            return inbox.accept(self.hub.engine, channel, payload, source_id)

    def _find(self, name: str) -> SmsEndpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise BodyProblem(404, f"no SMS gateway {name!r}")
        return endpoint

    async def _fields(self, endpoint: SmsEndpoint, request: Request,
                      max_body: int) -> dict[str, Scalar]:
        """The request's fields (query and body), once it is authenticated."""
        query = request.query_params.multi_items()
        body = await read_body(request, max_body) if request.method == "POST" else b""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        form: list[tuple[str, str]] = []
        sent: dict[str, Scalar] = {}
        if body and (kind == "application/json" or kind.endswith("+json")):
            sent = parse_json(body)
        elif body and kind in ("application/x-www-form-urlencoded", ""):
            form = form_pairs(body)
        elif body:
            raise BodyProblem(415, "send the message as application/x-www-form-urlencoded "
                                   f"or application/json, not {kind}")
        self._authenticate(endpoint, request, dict(query).get("token"), form)
        pairs: list[tuple[str, Scalar]] = [(k, v) for k, v in query if k != "token"]
        return checked({**joined([*pairs, *form]), **sent})

    def _authenticate(self, endpoint: SmsEndpoint, request: Request, token: str | None,
                      form: list[tuple[str, str]]) -> None:
        settings = endpoint.settings
        if settings.auth == "bearer":
            self.tokens.require(request.headers.get("authorization"), "sms")
            return
        secret = self.environ.get(settings.secret_env or "", "")
        if not secret:
            log.error("sms gateway secret missing", gateway=endpoint.name,
                      env=settings.secret_env)
            raise AuthError(401, "this gateway's secret is not set on the server")
        if settings.auth == "token":
            check_url_token(token, secret)
            return
        url = str(request.url)
        if settings.public_url:
            query = request.url.query
            url = settings.public_url + (f"?{query}" if query else "")
        check_twilio(request.headers.get(TWILIO_HEADER), url, form, secret)


def _endpoint(hub: Hub, name: str) -> SmsEndpoint:
    settings = hub.config.serve.gateway(name)
    assert settings is not None   # the config names it
    cfg = hub.config.pipeline(name)
    preset = PRESETS[settings.preset].with_fields(settings.fields)
    words = ConsentWords(settings.opt_out_words, settings.opt_in_words)
    gateway = Gateway(preset, country=settings.country, timezone=settings.timezone,
                      words=words)
    return SmsEndpoint(name, settings, str(cfg.options["channel"]), gateway)


def _pipelines(hub: Hub, channel: str) -> GatewayPipelines:
    """The inbox pipelines on ``channel``: those whose mapping makes customers, the rest."""
    found = [cfg for cfg in hub.config.pipelines
             if cfg.adapter == "inbox" and cfg.options.get("channel") == channel]
    makes = {cfg.name: load_mapping(cfg.mapping, cfg.attributes).target == "customer"
             for cfg in found}
    return GatewayPipelines([n for n, yes in makes.items() if yes],
                            [n for n, yes in makes.items() if not yes])


def _answer(endpoint: SmsEndpoint, receipt: inbox.Receipt, status: str) -> Response:
    kind = endpoint.gateway.preset.answer
    if kind == "twiml":
        return Response(_TWIML, media_type="text/xml")
    if kind == "ok":
        return PlainTextResponse("OK")
    return JSONResponse({"receipt": receipt.source_id,
                         "status": "duplicate" if receipt.duplicate else status})
