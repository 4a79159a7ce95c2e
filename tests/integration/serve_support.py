"""Starting ``peyvand serve`` for real in tests: a project whose forms cover each kind of
authentication, and the server in a process of its own on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

SECRET = "a-shared-secret-of-the-form-builder"
READ_TOKEN = "read:" + "r" * 32
FORMS_TOKEN = "forms:" + "f" * 32
ADMIN_TOKEN = "admin:" + "a" * 32

MAPPING = """target: customer
fields:
  name.full:            {from: name}
  emails.email:         {from: email}
  phones.phone:mobile:  {from: mobile}
  addresses.address.city: {from: city}
"""
# Jotform's answers (in rawRequest) and Typeform's answers (by field ref).
JOTFORM = """target: customer
fields:
  name.given:   {from: q3_studentsName.first}
  name.family:  {from: q3_studentsName.last}
  emails.email: {from: q4_email}
"""
TYPEFORM = """target: customer
fields:
  name.full:    {from: answers.9a489f17-8765-494b-933e-3624c645bd0c}
  emails.email: {from: form_response.hidden.email}
"""
FORMS = {"contact": ("none", MAPPING), "signed": ("hmac", MAPPING),
         "partner": ("bearer", MAPPING), "jotform": ("none", JOTFORM),
         "typeform": ("none", TYPEFORM)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(root: Path, store_url: str, rate_limit: int = 0,
            pipelines: Sequence[str] = ()) -> Path:
    """A project whose forms cover each kind of authentication; ``pipelines`` are more
    pipelines to list in config.yaml (the caller writes their files)."""
    (root / "pipelines").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    forms = []
    for name, (auth, mapping) in FORMS.items():
        (root / "pipelines" / f"{name}.yaml").write_text(
            f"adapter: inbox\noptions: {{channel: {name}}}\nsource_system: {name}\n"
            f"mapping: {name}.yaml\n", encoding="utf-8")
        (root / "mappings" / f"{name}.yaml").write_text(mapping, encoding="utf-8")
        secret = ", secret_env: SIGNED_FORM_SECRET" if auth == "hmac" else ""
        forms.append(f"    {name}: {{auth: {auth}{secret}}}\n")
    (root / "config.yaml").write_text(
        f"store: {{url: '{store_url}'}}\npipelines: [{', '.join([*FORMS, *pipelines])}]\n"
        f"serve:\n  max_body_kb: 64\n  rate_limit: {rate_limit}\n  forms:\n{''.join(forms)}",
        encoding="utf-8")
    return root / "config.yaml"


class Server:
    """``peyvand serve`` in a process of its own, on a free loopback port."""

    def __init__(self, config: Path) -> None:
        self.config, self.port = config, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {**os.environ, "SIGNED_FORM_SECRET": SECRET,
               "PEYVAND_API_TOKENS": f"{READ_TOKEN} {FORMS_TOKEN} {ADMIN_TOKEN}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(self.config), "serve",
             "--port", str(self.port)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("peyvand serve did not come up")

    def stop(self, sig: int = signal.SIGTERM) -> str:
        assert self.process is not None
        self.process.send_signal(sig)
        out, _ = self.process.communicate(timeout=30)
        return out.decode(errors="replace")

    def post(self, path: str, timeout: float = 30, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=timeout, **kwargs)
