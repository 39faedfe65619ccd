"""Textbook queues the tests compare the model's resource pools with: Erlang B and C, and an M/M/c
system (queueing or loss) driven on a :class:`sim.resources.Pool`."""

from __future__ import annotations

import numpy as np
import simpy

from sim.model.pools import Pool


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of an M/M/c/c loss system with offered load a (Erlang B recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c."""
    a = lam / mu
    b = erlang_b(c, a)
    p_wait = c * b / (c - a * (1 - b))
    return p_wait / (c * mu - lam)


def mm_c(c: int, lam: float, mu: float, n: int, rng: np.random.Generator, loss: bool) -> tuple[float, float]:
    """Poisson arrivals to a Pool of c places with exponential service.

    With ``loss`` an arrival finding every place taken is lost; otherwise it queues. Returns (mean wait
    in queue, share of arrivals lost), both over arrivals after the first tenth (the system starts empty).
    """
    gaps = rng.exponential(1 / lam, n)
    service = rng.exponential(1 / mu, n)
    warm = n // 10
    env = simpy.Environment()
    pool = Pool(env, "servers", c)
    waits, lost = [], [0]

    def customer(j):
        asked = env.now
        ev = pool.request()
        if ev is not None:
            if loss:
                pool.cancel(ev)
                lost[0] += j >= warm
                return
            yield ev
        if j >= warm:
            waits.append(env.now - asked)
        yield env.timeout(service[j])
        pool.release()

    def source():
        for j in range(n):
            yield env.timeout(gaps[j])
            env.process(customer(j))

    env.process(source())
    env.run()
    assert max(pool.levels) <= c and min(pool.levels) >= 0
    return (float(np.mean(waits)) if waits else 0.0), lost[0] / (n - warm)
