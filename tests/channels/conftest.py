"""The live-desk fixtures (a shop with staff, buyers on the one shared client)."""

from tests.realtime.conftest import desk as desk
