"""A project for ``peyvand serve`` with an SMS gateway of every preset, each with the two
shipped pipelines (``sms_contacts.yaml`` then ``sms_interactions.yaml``) on its channel,
and a contact form that makes known customers; started with ``serve_support.Server``."""

from __future__ import annotations

from pathlib import Path

SMS_TOKEN = "a-url-token-the-gateway-panel-holds"
TWILIO_AUTH_TOKEN = "twilio-auth-token-of-the-account"
ENVIRON = {"SMS_TOKEN": SMS_TOKEN, "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN}

# gateway (= preset, = pipeline, = channel) -> its settings in serve.sms
GATEWAYS = {
    "kavenegar": "{preset: kavenegar, auth: token, secret_env: SMS_TOKEN}",
    "ghasedak": "{preset: ghasedak, auth: bearer}",
    "smsir": "{preset: smsir, auth: token, secret_env: SMS_TOKEN}",
    "twilio": "{preset: twilio, auth: twilio, secret_env: TWILIO_AUTH_TOKEN}",
    "vonage": "{preset: vonage, auth: token, secret_env: SMS_TOKEN}",
    "melipayamak": "{preset: melipayamak, auth: token, secret_env: SMS_TOKEN}",
    # Kaleyra's incoming-SMS callback (../shared/samples/sms), named field by field.
    "kaleyra": ("{preset: custom, auth: token, secret_env: SMS_TOKEN, fields: {sender: "
                "source, receiver: recipient, text: message, message_id: id, time: "
                "timestamp}, timezone: Asia/Kolkata, opt_out_words: [STOPOFFER]}"),
}

FORM_MAPPING = """target: customer
fields:
  name.full:            {from: name}
  phones.phone:mobile:  {from: mobile}
  consents.consent:sms: {from: sms_ok}
"""


def sms_project(root: Path, store_url: str) -> Path:
    """The project's config.yaml; the website outranks SMS, so consent following the
    latest statement is seen to ignore rank."""
    (root / "pipelines").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    names = ["contact"]
    (root / "pipelines" / "contact.yaml").write_text(
        "adapter: inbox\noptions: {channel: contact}\nsource_system: website\n"
        "mapping: contact.yaml\n", encoding="utf-8")
    (root / "mappings" / "contact.yaml").write_text(FORM_MAPPING, encoding="utf-8")
    for gateway in GATEWAYS:
        for pipeline, mapping in ((gateway, "sms_interactions.yaml"),
                                  (f"{gateway}_contacts", "sms_contacts.yaml")):
            (root / "pipelines" / f"{pipeline}.yaml").write_text(
                f"adapter: inbox\noptions: {{channel: {gateway}}}\nsource_system: sms\n"
                f"mapping: {mapping}\n", encoding="utf-8")   # the shipped mappings
            names.append(pipeline)
    sms = "".join(f"    {g}: {spec}\n" for g, spec in GATEWAYS.items())
    (root / "config.yaml").write_text(
        f"store: {{url: '{store_url}'}}\npipelines: [{', '.join(names)}]\n"
        "survivorship: {source_priority: [website, sms]}\n"
        "serve:\n  rate_limit: 0\n  forms:\n    contact: {auth: none}\n"
        f"  sms:\n{sms}", encoding="utf-8")
    return root / "config.yaml"
