"""What the load runner sends to ``peyvand serve``, and how: the posts (seed 1405) and
the concurrent httpx clients that send them, timing each.

The posts: about 78 % new people (Persian names, an e-mail each, mobiles typed every
way), 10 % the same person again (same e-mail, the name and mobile typed otherwise: a
link, not a new customer), 5 % with a mobile that cannot be read (set aside, 202), 5 %
that identify nobody (422) and 2 % a submission sent again with its id (200, stored
once). Bodies are urlencoded (70 %), JSON (25 %) and multipart (5 %).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from hub.testing.synthetic import _FAMILY, _GIVEN, _MOBILE_PREFIXES, _messy_mobile, _messy_name

FORM = "contact"
CITIES = ["تهران", "اصفهان", "شیراز", "مشهد", "تبریز", "رشت", "کرج", "یزد"]


# --- what is sent ------------------------------------------------------------------------

@dataclass(frozen=True)
class Post:
    kind: str                   # new | again | aside | invalid | resend
    fields: dict[str, str]
    body: str                   # form | json | multipart

    @property
    def email(self) -> str:
        return self.fields.get("email", "")


def make_posts(count: int, seed: int = 1405) -> list[Post]:
    """``count`` posts, in the order they are sent; see the module docstring."""
    rng = random.Random(seed)
    people: list[tuple[Post, str]] = []   # a new person's post, and the mobile's digits
    posts: list[Post] = []
    for i in range(count):
        roll = rng.random()
        body = "form" if rng.random() < 0.70 else "json" if rng.random() < 0.83 else "multipart"
        sid = f"F{i:07d}"
        if roll < 0.05:
            fields = {"city": rng.choice(CITIES), "submission_id": sid}
            if rng.random() < 0.5:
                fields["email"] = f"not an address {i}"
            posts.append(Post("invalid", fields, body))
        elif roll < 0.07 and people:   # sent again with its id: the original or a later one
            posts.append(Post("resend", rng.choice(people[-500:])[0].fields, body))
        elif roll < 0.17 and people:
            first, mobile = rng.choice(people[-2000:])
            fields = {"name": _messy_name(first.fields["name"], rng), "email": first.email,
                      "mobile": _messy_mobile(mobile, rng), "city": rng.choice(CITIES),
                      "submission_id": sid}
            posts.append(Post("again", fields, body))
        else:
            given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
            mobile = rng.choice(_MOBILE_PREFIXES) + f"{i:07d}"   # unique per person
            aside = roll < 0.22
            fields = {"name": f"{given} {family}", "email": f"person{i}@example.com",
                      "mobile": "12345" if aside else _messy_mobile(mobile, rng),
                      "submission_id": sid}
            if rng.random() < 0.5:
                fields["city"] = rng.choice(CITIES)
            post = Post("aside" if aside else "new", fields, body)
            posts.append(post)
            if not aside:
                people.append((post, mobile))
    return posts


# --- sending -----------------------------------------------------------------------------

@dataclass
class Answer:
    post: Post
    sent: float                 # wall clock, s
    ms: float
    status: int                 # 0: the connection failed
    receipt: str = ""
    set_aside: int = 0


def _request(post: Post) -> dict[str, Any]:
    if post.body == "json":
        return {"json": post.fields}
    if post.body == "multipart":   # a text part per field, as a browser sends one
        return {"files": {k: (None, v) for k, v in post.fields.items()}}
    return {"data": post.fields}


async def _client(url: str, posts: Iterator[Post], answers: list[Answer]) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        for post in posts:   # one iterator shared by the clients: each post once
            sent, start = time.time(), time.perf_counter()
            try:
                response = await client.post(f"/forms/{FORM}", **_request(post))
            except httpx.TransportError:
                answers.append(Answer(post, sent, (time.perf_counter() - start) * 1000, 0))
                continue
            ms = (time.perf_counter() - start) * 1000
            body = response.json() if response.status_code in (200, 202) else {}
            answers.append(Answer(post, sent, ms, response.status_code,
                                  body.get("receipt", ""), len(body.get("set_aside", []))))


async def send(url: str, posts: list[Post], clients: int) -> tuple[list[Answer], float]:
    answers: list[Answer] = []
    shared = iter(posts)
    start = time.perf_counter()
    await asyncio.gather(*(_client(url, shared, answers) for _ in range(clients)))
    return answers, time.perf_counter() - start
