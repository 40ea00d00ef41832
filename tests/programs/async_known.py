"""Coroutines whose await times are known by construction: slow awaits
0.6 s, fast awaits 0.2 s, main awaits the gather for 0.6 s."""
import asyncio


async def slow():
    await asyncio.sleep(0.6)  # AWAIT-SLOW


async def fast():
    await asyncio.sleep(0.2)  # AWAIT-FAST


async def main():
    await asyncio.gather(slow(), fast())  # AWAIT-GATHER


asyncio.run(main())
