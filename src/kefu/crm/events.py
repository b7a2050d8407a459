from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(Event):
    customer_id: int
