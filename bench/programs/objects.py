"""Object-heavy code: classes, dicts, attribute access, small allocations."""
import random
import sys


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def scale(self, k):
        return Vec(self.x * k, self.y * k)


class Particle:
    def __init__(self, pid, pos, vel):
        self.pid = pid
        self.pos = pos
        self.vel = vel
        self.tags = {"kind": "p", "age": 0}

    def step(self, dt):
        self.pos = self.pos + self.vel.scale(dt)
        if not -100.0 < self.pos.x < 100.0:
            self.vel = Vec(-self.vel.x, self.vel.y)
        if not -100.0 < self.pos.y < 100.0:
            self.vel = Vec(self.vel.x, -self.vel.y)
        self.tags["age"] += 1


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, qty, price):
        rec = self.items.get(name)
        if rec is None:
            rec = self.items[name] = {"qty": 0, "value": 0.0, "history": []}
        rec["qty"] += qty
        rec["value"] += qty * price
        if len(rec["history"]) < 8:
            rec["history"].append((qty, price))

    def report(self):
        return sorted(((v["value"], k) for k, v in self.items.items()), reverse=True)[:5]


def simulate(n_particles, steps, rng):
    ps = [Particle(i, Vec(rng.uniform(-50, 50), rng.uniform(-50, 50)),
                   Vec(rng.uniform(-1, 1), rng.uniform(-1, 1))) for i in range(n_particles)]
    for _ in range(steps):
        for p in ps:
            p.step(0.5)
    return sum(p.pos.x + p.pos.y for p in ps)


def trade(n, rng):
    inv = Inventory()
    names = ["item%03d" % i for i in range(500)]
    for _ in range(n):
        inv.add(rng.choice(names), rng.randint(1, 9), rng.random() * 10)
    return inv.report()


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(42)
    print(round(simulate(2000, int(480 * scale), rng), 6))
    print(trade(int(950_000 * scale), rng)[0])
