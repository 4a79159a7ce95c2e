"""``serve:`` in config.yaml: where ``peyvand serve`` listens, its limits, and its forms.

Secrets are never here: API tokens come from ``PEYVAND_API_TOKENS`` and a form's HMAC
secret from the environment variable its ``secret_env`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hub.errors import ConfigError
from hub.settings import parse_settings


@dataclass(frozen=True, slots=True)
class FormSettings:
    """One form endpoint, ``serve.forms.<pipeline>``: ``POST /forms/<pipeline>``.

    Args:
        auth: ``hmac`` (the form builder signs each post with a shared secret), ``bearer``
            (a token with the ``forms`` scope) or ``none`` (a public HTML form: only the
            body limit and the rate limit protect it).
        secret_env: for ``hmac``, the environment variable holding the shared secret.
        id_field: the field holding the form builder's own submission id (Jotform's
            ``submissionID``); a submission sent again with it is stored once.
    """

    auth: Literal["hmac", "bearer", "none"]
    secret_env: str | None = None
    id_field: str | None = None


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """``serve:`` in config.yaml.

    Args:
        host: the address to listen on; 127.0.0.1 keeps it to this machine (put a TLS
            proxy in front for the internet).
        port: the TCP port.
        max_body_kb: the largest request body accepted, in KiB (413 above).
        rate_limit: requests a minute one client address may send to the intake (429
            above); 0 turns it off. Counted per process.
        replay_window: seconds a signed request's timestamp may be old (or ahead); its
            signature is refused a second time within them.
        cors_origins: web origins allowed to call the API from a browser; none by default.
        forms: the form endpoints, by pipeline name (an ``inbox`` pipeline).
    """

    section: ClassVar[str] = "serve"
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_kb: int = 256
    rate_limit: int = 120
    replay_window: int = 300
    cors_origins: tuple[str, ...] = ()
    forms: Mapping[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = [] if 0 < self.port < 65536 else ["serve.port: must be 1 to 65535"]
        out += [] if self.max_body_kb >= 1 else ["serve.max_body_kb: must be 1 or more"]
        out += [] if self.rate_limit >= 0 else ["serve.rate_limit: must be 0 or more"]
        out += [] if self.replay_window >= 1 else ["serve.replay_window: must be 1 or more"]
        for name, form in self.forms.items():
            try:
                checked = parse_form(name, form)
            except ConfigError as exc:
                out += exc.problems
                continue
            if checked.auth == "hmac" and not checked.secret_env:
                out.append(f"serve.forms.{name}.secret_env: hmac needs the name of the "
                           "environment variable holding the shared secret")
        return out

    def form(self, name: str) -> FormSettings | None:
        spec = self.forms.get(name)
        return None if spec is None else parse_form(name, spec)


def parse_form(name: str, spec: Any) -> FormSettings:
    if not isinstance(spec, Mapping):
        raise ConfigError("config.yaml", [f"serve.forms.{name}: expected settings such as "
                                          "{auth: hmac, secret_env: MY_FORM_SECRET}"])
    return parse_settings(FormSettings, spec, where="config.yaml",
                          prefix=f"serve.forms.{name}")
