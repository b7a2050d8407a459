"""The live-desk fixtures (a shop with staff, buyers on the one shared client).

test_conversation_service.py defines a service-level ``desk`` of its own, which wins there.
"""

from tests.realtime.conftest import desk as desk
