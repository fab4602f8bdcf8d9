"""The MongoDB promises the services rely on, each as a test.

They run against the project's local server (SecantusDB) in CI, and against any server given as
``MONGODB_URI`` (a real MongoDB 8 replica set when someone has one) with the same assertions:
`MONGODB_URI=mongodb://… uv run pytest tests/mongo_semantics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def race(n: int, attempt: Callable[[int], Awaitable[T]]) -> list[T | BaseException]:
    """Start ``n`` attempts at once (each on its own connection's turn) and gather the outcomes."""
    start = asyncio.Event()

    async def one(i: int) -> T:
        await start.wait()
        return await attempt(i)

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def winning_plan_stages(explained: dict[str, Any]) -> list[str]:
    """Every stage name of the winning plan, outermost first."""
    plan = explained.get("queryPlanner", {}).get("winningPlan", {})
    plan = plan.get("queryPlan", plan)  # MongoDB 7+ with the slot-based engine nests it
    stages: list[str] = []
    todo = [plan]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict):
            continue
        if "stage" in node:
            stages.append(node["stage"])
        todo.extend(node.get(k) for k in ("inputStage", "outerStage", "innerStage") if k in node)
        todo.extend(node.get("inputStages", []))
    return stages
