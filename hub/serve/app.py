"""The HTTP application of ``peyvand serve`` (FastAPI on uvicorn).

FastAPI because the service's contract is its OpenAPI document, which FastAPI writes
from the code itself (``/openapi.json``, browsable at ``/docs``) and which the fuzz test
drives; it is Starlette underneath, so bodies are read as streams with our own limits.

Intake answers only after the request is durable: the form's fields are checked through
the pipeline's own mapping and standardization (so a submission that would be rejected
whole gets a 422 naming each field, and values that would be set aside are named in the
202), stored in the inbox in one transaction, and then the background worker
(``hub.serve.worker``) takes them to the master. A form endpoint never says whether a
customer exists: every accepted submission gets the same answer.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hub import __version__
from hub.app import Hub
from hub.config import PipelineConfig
from hub.errors import PeyvandError, RecordRejected, TransientError
from hub.pipeline import Preparer
from hub.records import RawRecord
from hub.serve.auth import AuthError, Tokens, verify
from hub.serve.limits import RateLimiter, read_body
from hub.serve.payload import BodyProblem, Scalar, parse_json, parse_pairs, parse_urlencoded
from hub.serve.read_api import read_router
from hub.serve.settings import FormSettings
from hub.serve.sms import SmsEndpoints
from hub.serve.worker import InboxWorker
from hub.store import inbox
from hub.store.engine import read

log = structlog.get_logger("peyvand.serve")


@dataclass(frozen=True)
class Form:
    """A form endpoint: its settings, its pipeline and the pipeline's stateless stages."""

    name: str
    settings: FormSettings
    pipeline: PipelineConfig
    prepare: Preparer

    @property
    def channel(self) -> str:
        return str(self.pipeline.options["channel"])


def create_app(hub: Hub, environ: Mapping[str, str] | None = None,
               worker_interval: float = 5.0) -> FastAPI:
    """The application; ``environ`` holds the tokens and form secrets (os.environ)."""
    environ = os.environ if environ is None else environ
    serve = hub.config.serve
    _ = hub.engine   # open (and migrate) the store now: request threads and the worker share it
    tokens = Tokens.from_environ(environ)
    forms = {name: _form(hub, name) for name in serve.forms}
    sms = SmsEndpoints(hub, environ, tokens)
    worker = sms.worker(list(forms), [f.channel for f in forms.values()], worker_interval)
    limiter = RateLimiter(serve.rate_limit)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        worker.wake()   # what arrived while no process served
        yield
        worker.stop()

    app = FastAPI(title="Peyvand", version=__version__, lifespan=lifespan,
                  summary="Web forms and SMS in, the customer master out.")
    app.state.worker = worker
    if serve.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(serve.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"])

    @app.exception_handler(AuthError)
    async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status,
                            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)

    @app.exception_handler(TransientError)
    async def _busy(_request: Request, exc: TransientError) -> JSONResponse:
        # The store is locked or away for longer than its retries: nothing was stored.
        log.warning("request not served: the store is unavailable", error=str(exc))
        return JSONResponse({"error": "the service cannot store requests just now; nothing "
                                      "was stored, try again shortly"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(BodyProblem)
    async def _body(_request: Request, exc: BodyProblem) -> JSONResponse:
        retry = getattr(exc, "retry_after", None)
        return JSONResponse({"error": str(exc), "fields": exc.fields}, status_code=exc.status,
                            headers={"Retry-After": str(retry)} if retry else None)

    @app.get("/health", tags=["operations"], summary="The process is up.")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="The store answers.",
             responses={503: {"description": "The store does not answer."}})
    async def ready() -> JSONResponse:
        try:
            await run_in_threadpool(read, hub.engine, "checking the store",
                                    lambda conn: conn.execute(text("SELECT 1")).scalar())
        except PeyvandError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.post("/forms/{form_id}", status_code=202, tags=["intake"],
              summary="Submit a web form (urlencoded, multipart or JSON).",
              responses={200: {"description": "Sent before (the same submission id)."},
                         400: {"description": "The body cannot be read."},
                         401: {"description": "Not authenticated."},
                         404: {"description": "No such form."},
                         409: {"description": "A replayed signature."},
                         413: {"description": "The body is too large."},
                         415: {"description": "Not a form or JSON body."},
                         422: {"description": "Fields that cannot be taken, each named."},
                         429: {"description": "Too many requests from this client."}})
    async def submit_form(form_id: str, request: Request) -> JSONResponse:
        limiter.check(request.client.host if request.client else "?")
        form = forms.get(form_id)
        if form is None:
            return JSONResponse({"error": f"no form {form_id!r}"}, status_code=404)
        body = await read_body(request, serve.max_body_kb * 1024)
        signature = _authenticate(form, request, body, tokens, environ,
                                  serve.replay_window)
        fields = await _fields(request, body)
        return await run_in_threadpool(_accept, hub, form, fields, signature,
                                       serve.replay_window, worker)

    app.include_router(read_router(hub, tokens, app))
    app.include_router(sms.router(worker.wake))
    return app


def _form(hub: Hub, name: str) -> Form:
    settings = hub.config.serve.form(name)
    assert settings is not None   # the config names it
    cfg = hub.config.pipeline(name)
    return Form(name, settings, cfg, Preparer.for_pipeline(cfg))


def _authenticate(form: Form, request: Request, body: bytes, tokens: Tokens,
                  environ: Mapping[str, str], window: int) -> str | None:
    """The signature's digest for a signed form (None otherwise), or AuthError."""
    if form.settings.auth == "bearer":
        tokens.require(request.headers.get("authorization"), "forms")
    elif form.settings.auth == "hmac":
        secret = environ.get(form.settings.secret_env or "", "")
        if not secret:
            log.error("form secret missing", form=form.name, env=form.settings.secret_env)
            raise AuthError(401, "this form's secret is not set on the server")
        return verify(secret, request.headers.get("x-peyvand-signature"), body, window)
    return None


async def _fields(request: Request, body: bytes) -> dict[str, Scalar]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return parse_json(body)
    if kind == "application/x-www-form-urlencoded":
        return parse_urlencoded(body)
    if kind == "multipart/form-data":
        return parse_pairs(await _multipart(request, body))
    raise BodyProblem(415, "send the form as application/x-www-form-urlencoded, "
                           f"multipart/form-data or application/json, not {kind or 'nothing'}")


async def _multipart(request: Request, body: bytes) -> list[tuple[str, Scalar]]:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=20, max_fields=500)
    except Exception as exc:   # the parser's own errors: a body that is not multipart
        raise BodyProblem(400, f"the multipart body cannot be read: {exc}") from None
    pairs: list[tuple[str, Scalar]] = [(k, v.filename if isinstance(v, UploadFile) else v)
                                       for k, v in form.multi_items()]
    await form.close()
    return pairs


def _accept(hub: Hub, form: Form, fields: dict[str, Scalar], signature: str | None,
            window: int, worker: InboxWorker) -> JSONResponse:
    source_id = _submission_id(form, fields)
    try:
        record = form.prepare(RawRecord(source_id or "submission", fields, f"form {form.name}"))
    except RecordRejected as exc:
        problems = exc.problems or []
        named = [{"field": p.field or "(the submission)", "problem": p.reason}
                 for p in problems] or [{"field": exc.field or "(the submission)",
                                         "problem": exc.reason}]
        return JSONResponse({"error": "the submission cannot be taken", "fields": named},
                            status_code=422)
    try:
        # One try: the store's own busy wait is the patience a request has (SQLite: 30 s);
        # then 503, and the sender (a form builder's retry) tries again later.
        receipt = inbox.accept(hub.engine, form.channel, fields, source_id,
                               signature=signature, window=window)
    except inbox.Replayed:
        return JSONResponse({"error": "this signed request was received before"},
                            status_code=409)
    worker.wake()
    set_aside = [{"field": p.field, "problem": p.reason} for p in record.set_aside]
    answer = {"receipt": receipt.source_id, "status": "duplicate" if receipt.duplicate
              else "accepted", "set_aside": set_aside}
    log.info("form accepted", form=form.name, receipt=receipt.source_id,
             duplicate=receipt.duplicate, set_aside=len(set_aside))
    return JSONResponse(answer, status_code=200 if receipt.duplicate else 202)


def _submission_id(form: Form, fields: Mapping[str, Scalar]) -> str | None:
    if form.settings.id_field is None:
        return None
    value = fields.get(form.settings.id_field)
    return str(value).strip()[:200] or None if value not in (None, "") else None
