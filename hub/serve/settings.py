"""``serve:`` in config.yaml: where ``peyvand serve`` listens, its limits, its forms and
its SMS gateways.

Secrets are never here: API tokens come from ``PEYVAND_API_TOKENS``, and a form's HMAC
secret or a gateway's URL token or Twilio auth token from the environment variable its
``secret_env`` names.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hub.errors import ConfigError
from hub.serve.sms_presets import FIELDS
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
class SmsSettings:
    """One SMS gateway, ``serve.sms.<pipeline>``: ``POST``/``GET /sms/<pipeline>`` (inbound
    messages) and ``/sms/<pipeline>/status`` (delivery reports).

    Args:
        preset: whose field names the requests use: ``kavenegar``, ``ghasedak``, ``smsir``
            (sms.ir), ``twilio``, ``vonage``, ``melipayamak`` or ``custom`` (``fields``).
        auth: ``token`` (``?token=SECRET`` in the URL the gateway calls: most gateways
            cannot set headers), ``bearer`` (a token with the ``sms`` scope) or
            ``twilio`` (Twilio's X-Twilio-Signature). There is no ``none``: anyone could
            otherwise opt any number out.
        secret_env: for ``token`` the variable holding the URL's secret, for ``twilio``
            the one holding the account's auth token.
        fields: the gateway's field names by normalized field (``sender``, ``receiver``,
            ``text``, ``message_id``, ``time``, ``status``), one name or a list each;
            required for ``custom``, and override a preset's names.
        country: where a sender's number without a country code is (ISO 3166 code).
        timezone: of a gateway time written without an offset (the preset's otherwise).
        public_url: for ``twilio``, the URL Twilio calls (``https://hub.example.com/sms/
            sms_in``), when a proxy stands between it and this server.
        opt_out_words: words added to the opt-out words (``hub.serve.sms_consent``).
        opt_in_words: words added to the opt-in words.
    """

    preset: Literal["kavenegar", "ghasedak", "smsir", "twilio", "vonage", "melipayamak",
                    "custom"]
    auth: Literal["token", "bearer", "twilio"]
    secret_env: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    country: str = "IR"
    timezone: str | None = None
    public_url: str | None = None
    opt_out_words: tuple[str, ...] = ()
    opt_in_words: tuple[str, ...] = ()

    def problems(self, prefix: str) -> list[str]:
        out = [] if self.auth == "bearer" or self.secret_env else [
            f"{prefix}.secret_env: {self.auth} needs the name of the environment variable "
            "holding the " + ("URL's token" if self.auth == "token" else "Twilio auth token")]
        for key, names in self.fields.items():
            if key not in FIELDS:
                out.append(f"{prefix}.fields.{key}: unknown field; the fields are "
                           f"{', '.join(FIELDS)}")
            elif not (isinstance(names, str) and names) and not (
                    isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
                out.append(f"{prefix}.fields.{key}: expected a field name or a list of them")
        if self.preset == "custom" and "sender" not in self.fields:
            out.append(f"{prefix}.fields.sender: a custom gateway names at least the field "
                       "holding the sender's number (and text:, message_id:, time:)")
        if not (len(self.country) == 2 and self.country.isalpha() and self.country.isupper()):
            out.append(f"{prefix}.country: a two-letter country code such as IR, "
                       f"got {self.country!r}")
        return out + _zone_problems(prefix, self.timezone)


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
        sms: the SMS gateways, by pipeline name (an ``inbox`` pipeline).
    """

    section: ClassVar[str] = "serve"
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_kb: int = 256
    rate_limit: int = 120
    replay_window: int = 300
    cors_origins: tuple[str, ...] = ()
    forms: Mapping[str, Any] = field(default_factory=dict)
    sms: Mapping[str, Any] = field(default_factory=dict)

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
        for name, spec in self.sms.items():
            try:
                out += parse_sms(name, spec).problems(f"serve.sms.{name}")
            except ConfigError as exc:
                out += exc.problems
        return out

    def form(self, name: str) -> FormSettings | None:
        spec = self.forms.get(name)
        return None if spec is None else parse_form(name, spec)

    def gateway(self, name: str) -> SmsSettings | None:
        spec = self.sms.get(name)
        return None if spec is None else parse_sms(name, spec)


def parse_form(name: str, spec: Any) -> FormSettings:
    if not isinstance(spec, Mapping):
        raise ConfigError("config.yaml", [f"serve.forms.{name}: expected settings such as "
                                          "{auth: hmac, secret_env: MY_FORM_SECRET}"])
    return parse_settings(FormSettings, spec, where="config.yaml",
                          prefix=f"serve.forms.{name}")


def parse_sms(name: str, spec: Any) -> SmsSettings:
    if not isinstance(spec, Mapping):
        raise ConfigError("config.yaml", [f"serve.sms.{name}: expected settings such as "
                                          "{preset: kavenegar, auth: token, "
                                          "secret_env: SMS_IN_TOKEN}"])
    return parse_settings(SmsSettings, spec, where="config.yaml", prefix=f"serve.sms.{name}")


def _zone_problems(prefix: str, zone: str | None) -> list[str]:
    if zone is None:
        return []
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [f"{prefix}.timezone: {zone!r} is not a time zone such as Asia/Tehran or UTC"]
    return []
