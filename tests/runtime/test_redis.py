"""Rate limits and live events through Redis (the shared server, or a private one to stop)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from bot.errors import ConfigError, RateLimited
from bot.runtime.events import RESYNC, Event, EventBus
from bot.runtime.limits import RedisSlidingWindow, SlidingWindow, make_limit
from bot.runtime.redis_link import RedisDown, RedisLink, redact_url
from tests.support.redis_server import private_redis, require_shared_redis, unique_prefix

pytestmark = pytest.mark.redis


def count_allowed(limits: list[RedisSlidingWindow], key: str, n: int) -> int:
    allowed = 0
    for i in range(n):
        try:
            limits[i % len(limits)].hit(key)
            allowed += 1
        except RateLimited:
            pass
    return allowed


def test_two_servers_share_one_budget() -> None:
    url, prefix = require_shared_redis(), unique_prefix("limit")
    # Two links, as two servers have: one budget between them.
    servers = [RedisSlidingWindow(RedisLink(url, prefix), 7, 60.0, "requests") for _ in range(2)]
    assert count_allowed(servers, "203.0.113.9", 20) == 7
    assert count_allowed(servers, "198.51.100.1", 3) == 3  # another address, its own budget
    with pytest.raises(RateLimited) as refused:
        servers[1].hit("203.0.113.9")
    assert 1 <= refused.value.retry_after <= 60
    assert "the limit is 7 per 60 seconds" in str(refused.value)


def test_the_window_slides_on_redis_time() -> None:
    url, prefix = require_shared_redis(), unique_prefix("slide")
    limit = RedisSlidingWindow(RedisLink(url, prefix), 2, 0.3, "requests")
    limit.hit("k")
    limit.hit("k")
    with pytest.raises(RateLimited):
        limit.hit("k")
    time.sleep(0.35)  # not a timing assertion: waits out the window
    limit.hit("k")


def test_limits_of_different_kinds_do_not_share_counts() -> None:
    url, prefix = require_shared_redis(), unique_prefix("kinds")
    link = RedisLink(url, prefix)
    chats = RedisSlidingWindow(link, 1, 60.0, "messages in this conversation")
    polls = RedisSlidingWindow(link, 1, 60.0, "polls of this conversation")
    chats.hit("s1")
    polls.hit("s1")
    with pytest.raises(RateLimited, match="messages in this conversation"):
        chats.hit("s1")


def test_keys_are_hashed_and_expire() -> None:
    url, prefix = require_shared_redis(), unique_prefix("keys")
    link = RedisLink(url, prefix)
    RedisSlidingWindow(link, 5, 60.0).hit("x" * 8000)
    keys = link.client.keys(f"{prefix}:*")
    assert len(keys) == 1 and len(keys[0]) < len(prefix) + 60
    assert 0 < link.client.pttl(keys[0]) <= 60_000


def test_make_limit_counts_in_redis_only_when_given_a_link(tmp_path: Path) -> None:
    assert isinstance(make_limit(None, 5, 60, "requests"), SlidingWindow)
    link = RedisLink("redis://127.0.0.1:9/0", unique_prefix())
    made = make_limit(tmp_path / "limits.sqlite", 5, 60, "requests", link)
    assert isinstance(made, RedisSlidingWindow)
    assert type(made.fallback).__name__ == "SharedSlidingWindow"


def test_with_redis_unreachable_each_machine_counts_alone_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = RedisLink("redis://127.0.0.1:9/0", unique_prefix(), pause=60)
    limit = RedisSlidingWindow(link, 3, 60.0, "requests")
    with caplog.at_level(logging.WARNING, logger="bot.runtime.redis_link"):
        allowed = count_allowed([limit], "192.0.2.1", 10)
    assert allowed == 3  # the machine's own limit, not none and not an error
    outages = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outages) == 1 and not link.up
    with pytest.raises(RedisDown):  # paused: callers do not wait for a timeout each time
        link.run(lambda r: r.ping())


def test_redis_stopped_mid_traffic_then_back(tmp_path: Path) -> None:
    with private_redis(tmp_path / "redis") as server:
        link = RedisLink(server.url, unique_prefix(), pause=0)
        limit = RedisSlidingWindow(link, 1000, 60.0, "requests")
        for _ in range(5):
            limit.hit("a")
        assert link.up
        server.stop()
        for _ in range(5):
            limit.hit("a")  # no error: counted on this machine
        assert not link.up
        server.start()
        limit.hit("a")
        assert link.up
        # The Redis that came back empty counts from there on.
        assert int(link.client.zcard(next(iter(link.client.keys("*"))))) == 1


def test_a_bad_redis_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="FAQBOT_REDIS_URL"):
        RedisLink("redis://127.0.0.1:notaport/0")
    assert redact_url("redis://:hunter2@cache:6379/0") == "redis://***@cache:6379/0"


# ---- live events ----
async def wait_live(*buses: EventBus) -> None:
    for _ in range(200):
        if all(b.live for b in buses):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the event listeners did not connect")


def test_an_event_published_on_one_server_reaches_another() -> None:
    url, prefix = require_shared_redis(), unique_prefix("events")

    async def scenario() -> list[Event]:
        a, b = EventBus(RedisLink(url, prefix)), EventBus(RedisLink(url, prefix))
        a.start()
        b.start()
        try:
            await wait_live(a, b)
            with b.subscribe("conversation:s1") as sub, b.subscribe("queue") as queue:
                await sub.next(0.2)  # the listener's first resync
                await queue.next(0.2)
                await asyncio.to_thread(a.publish, "conversation:s2", n=0)  # not ours
                await asyncio.to_thread(a.publish, "conversation:s1", n=1)
                got = await sub.next(10)
                assert await queue.next(0.1) == []
                return got
        finally:
            a.stop()
            b.stop()

    assert asyncio.run(scenario()) == [Event("conversation:s1", {"n": 1})]


def test_events_reach_this_process_without_redis() -> None:
    async def scenario() -> None:
        bus = EventBus(None)
        assert not bus.live and bus.poll_seconds == 1.0
        with bus.subscribe("queue") as sub:
            await asyncio.to_thread(bus.publish, "queue", ticket_id=3, what="claimed")
            assert await sub.next(10) == [Event("queue", {"ticket_id": 3, "what": "claimed"})]
            assert await sub.next(0.05) == []
        assert bus.subscribers() == 0

    asyncio.run(scenario())


def test_a_server_ignores_its_own_events_coming_back_from_redis() -> None:
    url, prefix = require_shared_redis(), unique_prefix("echo")

    async def scenario() -> None:
        bus = EventBus(RedisLink(url, prefix))
        bus.start()
        try:
            await wait_live(bus)
            with bus.subscribe("queue") as sub:
                await sub.next(0.2)
                bus.publish("queue", ticket_id=1)
                assert await sub.next(10) == [Event("queue", {"ticket_id": 1})]
                assert await sub.next(0.5) == []  # not delivered a second time
        finally:
            bus.stop()

    asyncio.run(scenario())


def test_a_slow_subscriber_is_told_to_read_everything_again() -> None:
    async def scenario() -> list[Event]:
        bus = EventBus(None)
        with bus.subscribe("queue") as sub:
            for i in range(150):
                bus.publish("queue", ticket_id=i)
            await asyncio.sleep(0)
            return await sub.next(1)

    got = asyncio.run(scenario())
    assert got[0] == Event(RESYNC) and len(got) <= 100


def test_events_fall_back_to_polling_while_redis_is_down(tmp_path: Path) -> None:
    async def scenario(server_url: str, stop: object, start: object) -> None:
        bus = EventBus(RedisLink(server_url, unique_prefix()))
        bus.start()
        try:
            await wait_live(bus)
            assert bus.poll_seconds > 1.0
            with bus.subscribe("conversation:x") as sub:
                await sub.next(0.2)
                await asyncio.to_thread(stop)  # type: ignore[arg-type]
                assert RESYNC in [e.topic for e in await sub.next(10)]  # read the DB now
                assert not bus.live and bus.poll_seconds == 1.0
                bus.publish("conversation:x")  # no error; delivered here
                assert await sub.next(1) == [Event("conversation:x")]
                await asyncio.to_thread(start)  # type: ignore[arg-type]
                for _ in range(500):
                    if bus.live:
                        break
                    await asyncio.sleep(0.02)
                assert bus.live
        finally:
            bus.stop()

    with private_redis(tmp_path / "redis") as server:
        asyncio.run(scenario(server.url, server.stop, server.start))
