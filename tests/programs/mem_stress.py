"""Threads allocating and freeing concurrently, briefly (crash/hang stress)."""
import threading


def worker(k):
    kept = []
    for i in range(3000):
        kept.append(bytes(100 + (i % 50)) * (k + 1))
        if len(kept) > 200:
            kept = kept[100:]
        _ = [str(j) for j in range(20)]
    return len(kept)


threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
