"""Order lines from SKUs: the catalogue is looked up once for a whole batch of orders, then
each line is checked against it (errors name the line: ``lines[0].sku``, "on line 1")."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce import fields
from kefu.commerce.models import OrderLine, Product, ProductVariant
from kefu.commerce.schemas import OrderLineSpec
from kefu.errors import Invalid

MAX_LINE_QUANTITY = 9999
MAX_LINES = 200
# Parameters per IN list: well within what SQLite and PostgreSQL accept.
CHUNK = 500

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class SkuIndex:
    """The shop's sellable SKUs among those asked for: variants, and products sold without
    sizes or colours (a product that has variants is ordered by a variant's SKU)."""

    def __init__(
        self,
        *,
        variants: dict[str, tuple[ProductVariant, Product]],
        products: dict[str, Product],
        with_variants: set[int],
    ) -> None:
        self._variants = variants
        self._products = products
        self._with_variants = with_variants

    @classmethod
    def load(cls, session: Session, *, shop_id: int, skus: Iterable[str]) -> SkuIndex:
        wanted = sorted({sku.strip() for sku in skus if sku.strip()})
        variants: dict[str, tuple[ProductVariant, Product]] = {}
        for some in chunks(wanted):
            pairs = session.execute(
                select(ProductVariant, Product)
                .join(Product, Product.id == ProductVariant.product_id)
                .where(ProductVariant.shop_id == shop_id, ProductVariant.sku.in_(some))
            )
            variants.update({v.sku: (v, p) for v, p in pairs})
        products: dict[str, Product] = {}
        for some in chunks([sku for sku in wanted if sku not in variants]):
            found = session.scalars(
                select(Product).where(Product.shop_id == shop_id, Product.sku.in_(some))
            )
            products.update({p.sku: p for p in found})
        with_variants: set[int] = set()
        for ids in chunks([p.id for p in products.values()]):
            owners = session.scalars(
                select(ProductVariant.product_id)
                .where(ProductVariant.product_id.in_(ids))
                .distinct()
            )
            with_variants.update(owners)
        return cls(variants=variants, products=products, with_variants=with_variants)

    def lines(
        self,
        *,
        shop_id: int,
        specs: Sequence[OrderLineSpec],
        recorded: Sequence[OrderLine] = (),
    ) -> list[OrderLine]:
        """New (unsaved) rows for the lines. A line without a unit price costs the catalogue
        price, or, for an order already ``recorded``, what its same line cost then (so that
        sending an order again after a price change is not a change of the order)."""
        if not specs:
            raise Invalid("an order needs at least one line", field="lines")
        if len(specs) > MAX_LINES:
            raise Invalid(f"an order has at most {MAX_LINES} lines", field="lines")
        rows = []
        for number, spec in enumerate(specs):
            try:
                rows.append(self._line(shop_id, number, spec, recorded))
            except Invalid as exc:
                raise Invalid(f"{exc.message} on line {number + 1}", field=exc.field) from exc
        return rows

    def _line(
        self, shop_id: int, number: int, spec: OrderLineSpec, recorded: Sequence[OrderLine]
    ) -> OrderLine:
        where = f"lines[{number}]"
        sku = fields.sku(spec.sku, field=f"{where}.sku")
        if not 1 <= spec.quantity <= MAX_LINE_QUANTITY:
            raise Invalid(
                f"quantity must be 1–{MAX_LINE_QUANTITY}",
                field=f"{where}.quantity",
                key="errors.commerce.quantity",
                max=MAX_LINE_QUANTITY,
            )
        if sku in self._variants:
            variant, product = self._variants[sku]
            catalogue_price, size, colour = variant.price, variant.size, variant.colour
            variant_id: int | None = variant.id
        elif sku in self._products:
            product = self._products[sku]
            if product.id in self._with_variants:
                raise Invalid(
                    f"product {sku!r} has sizes/colours: order a variant SKU", field=f"{where}.sku"
                )
            catalogue_price, size, colour, variant_id = product.price, "", "", None
        else:
            raise Invalid(
                f"unknown SKU {sku!r}",
                field=f"{where}.sku",
                key="errors.commerce.unknown_sku",
                sku=sku,
            )
        if spec.unit_price is not None:
            unit_price = fields.money(
                spec.unit_price, f"{where}.unit_price", allow_zero=True, what="unit price"
            )
        elif number < len(recorded) and recorded[number].sku == sku:
            unit_price = recorded[number].unit_price
        else:
            unit_price = catalogue_price
        return OrderLine(
            shop_id=shop_id,
            product_id=product.id,
            variant_id=variant_id,
            sku=sku,
            title=product.title,
            size=size,
            colour=colour,
            quantity=spec.quantity,
            unit_price=unit_price,
        )
