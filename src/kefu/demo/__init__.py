"""The demo shop (`kefu demo`, first `make run`): a deterministic, believable store."""

from kefu.demo.seed import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_SHOP_SLUG,
    DemoLogin,
    DemoSummary,
    demo_exists,
    seed_demo_shop,
)

__all__ = [
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_SHOP_SLUG",
    "DemoLogin",
    "DemoSummary",
    "demo_exists",
    "seed_demo_shop",
]
