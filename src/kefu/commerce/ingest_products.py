"""Products as the shop's system sends them, created or brought up to date by SKU.

A batch is checked whole before anything is written: the rows it needs are loaded a few
queries per batch (not per item), each item is checked in turn and the first refusal
names it; only then are rows written, in a handful of bulk statements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import select

from kefu.commerce import fields
from kefu.commerce.events import ProductCreated, ProductUpdated
from kefu.commerce.ingest_common import Outcome, check_batch, naming
from kefu.commerce.lines import chunks
from kefu.commerce.models import Product, ProductVariant
from kefu.commerce.schemas import ProductIn
from kefu.errors import Invalid
from kefu.uow import UnitOfWork

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_VARIANTS = 200
MAX_IMAGES = 9
MAX_IMAGE_URL_LENGTH = 500
# In the order ProductUpdated.changed lists them.
FIELDS = ("title", "category", "price", "tags", "description", "on_sale", "images")


@dataclass(frozen=True)
class _Variant:
    sku: str
    size: str
    colour: str
    price: Decimal
    stock: int


@dataclass(frozen=True)
class _Product:
    sku: str
    title: str
    category: str
    price: Decimal
    tags: str
    description: str
    on_sale: bool
    images: str  # the JSON list, as stored
    variants: tuple[_Variant, ...]


def _images(images: Sequence[str]) -> str:
    if len(images) > MAX_IMAGES:
        raise Invalid(f"a product has at most {MAX_IMAGES} pictures", field="images")
    cleaned: list[str] = []
    for number, image in enumerate(images):
        where = f"images[{number}]"
        image = image.strip() if isinstance(image, str) else ""
        if len(image) > MAX_IMAGE_URL_LENGTH:
            raise Invalid(
                f"picture {number + 1} has an address over {MAX_IMAGE_URL_LENGTH} characters",
                field=where,
            )
        parts = urlsplit(image)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in image):
            raise Invalid(f"picture {number + 1} must be an https:// address", field=where)
        cleaned.append(image)
    return json.dumps(cleaned, ensure_ascii=False)


def _clean(item: ProductIn) -> _Product:
    sku = fields.sku(item.sku, field="sku")
    title = fields.text(item.title, "title", MAX_TITLE_LENGTH, required=True)
    category = fields.text(item.category, "category", 40)
    price = fields.money(item.price, "price", allow_zero=False)
    if len(item.variants) > MAX_VARIANTS:
        raise Invalid(f"a product has at most {MAX_VARIANTS} variants", field="variants")
    variants: list[_Variant] = []
    for number, spec in enumerate(item.variants):
        where = f"variants[{number}]"
        variant_sku = fields.sku(spec.sku, field=f"{where}.sku")
        if any(v.sku == variant_sku for v in variants):
            raise Invalid(f"variant SKU {variant_sku!r} is listed twice", field=f"{where}.sku")
        if not isinstance(spec.stock, int) or spec.stock < 0:
            raise Invalid(f"stock of {variant_sku!r} must be 0 or more", field=f"{where}.stock")
        variants.append(
            _Variant(
                sku=variant_sku,
                size=fields.text(spec.size, f"{where}.size", 20, what="size"),
                colour=fields.text(spec.colour, f"{where}.colour", 20, what="colour"),
                price=price
                if spec.price is None
                else fields.money(
                    spec.price, f"{where}.price", allow_zero=False, what="variant price"
                ),
                stock=spec.stock,
            )
        )
    return _Product(
        sku=sku,
        title=title,
        category=category,
        price=price,
        tags=fields.tags(item.tags),
        description=fields.text(
            item.description, "description", MAX_DESCRIPTION_LENGTH, multiline=True
        ),
        on_sale=bool(item.on_sale),
        images=_images(item.images),
        variants=tuple(variants),
    )


def _changes(row: Product, variants: Sequence[ProductVariant], new: _Product) -> list[str]:
    changed = [name for name in FIELDS if getattr(row, name) != getattr(new, name)]
    old = {v.sku: (v.size, v.colour, v.price) for v in variants}
    if old != {v.sku: (v.size, v.colour, v.price) for v in new.variants}:
        changed.append("variants")
    stock = {v.sku: v.stock for v in variants}
    if any(stock.get(v.sku, v.stock) != v.stock for v in new.variants):
        changed.append("stock")
    return changed


def upsert(
    uow: UnitOfWork, *, shop_id: int, items: Sequence[ProductIn], name_items: bool
) -> list[tuple[Product, Outcome]]:
    """Check every item, then write; nothing is written if one is refused. Not committed."""
    check_batch(items)
    session = uow.session
    skus = sorted({item.sku.strip() for item in items if isinstance(item.sku, str)})
    variant_skus = sorted(
        {v.sku.strip() for item in items for v in item.variants if isinstance(v.sku, str)}
    )
    existing: dict[str, Product] = {}
    for some in chunks(skus):
        found = session.scalars(
            select(Product).where(Product.shop_id == shop_id, Product.sku.in_(some))
        )
        existing.update({p.sku: p for p in found})
    variants_of: dict[int, list[ProductVariant]] = {p.id: [] for p in existing.values()}
    for ids in chunks(sorted(variants_of)):
        their = session.scalars(
            select(ProductVariant)
            .where(ProductVariant.shop_id == shop_id, ProductVariant.product_id.in_(ids))
            .order_by(ProductVariant.id)
        )
        for one in their:
            variants_of[one.product_id].append(one)
    owners: dict[str, int] = {}  # variant SKU -> the product it belongs to
    for some in chunks(variant_skus):
        pairs = session.execute(
            select(ProductVariant.sku, ProductVariant.product_id).where(
                ProductVariant.shop_id == shop_id, ProductVariant.sku.in_(some)
            )
        )
        for variant_sku, product_id in pairs:
            owners[variant_sku] = product_id

    plans: list[tuple[_Product, Product | None, list[str]]] = []
    item_of_sku: dict[str, int] = {}
    item_of_variant: dict[str, int] = {}
    for index, item in enumerate(items):
        with naming(index if name_items else None):
            new = _clean(item)
            if new.sku in item_of_sku:
                raise Invalid(f"SKU {new.sku!r} is also item {item_of_sku[new.sku]}", field="sku")
            item_of_sku[new.sku] = index
            row = existing.get(new.sku)
            for number, variant in enumerate(new.variants):
                where = f"variants[{number}].sku"
                if variant.sku in item_of_variant:
                    other = item_of_variant[variant.sku]
                    raise Invalid(
                        f"variant SKU {variant.sku!r} is also in item {other}", field=where
                    )
                item_of_variant[variant.sku] = index
                owner = owners.get(variant.sku)
                if owner is not None and (row is None or owner != row.id):
                    raise Invalid(
                        f"variant SKU {variant.sku!r} belongs to another product", field=where
                    )
            changed = [] if row is None else _changes(row, variants_of[row.id], new)
            plans.append((new, row, changed))
    return _write(uow, shop_id=shop_id, plans=plans, variants_of=variants_of)


def _write(
    uow: UnitOfWork,
    *,
    shop_id: int,
    plans: list[tuple[_Product, Product | None, list[str]]],
    variants_of: dict[int, list[ProductVariant]],
) -> list[tuple[Product, Outcome]]:
    session = uow.session
    now = uow.clock.now()
    results: list[tuple[Product, Outcome]] = []
    created: list[tuple[_Product, Product]] = []
    for new, row, changed in plans:
        if row is None:
            row = Product(shop_id=shop_id, created_at=now, updated_at=now, **_columns(new))
            created.append((new, row))
            results.append((row, "created"))
        elif changed:
            for name, value in _columns(new).items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            row.updated_at = now
            _replace_variants(uow, shop_id, row, variants_of[row.id], new.variants)
            results.append((row, "updated"))
        else:
            results.append((row, "unchanged"))
    session.add_all([row for _, row in created])
    session.flush()  # the new products' ids, for their variants
    for new, row in created:
        _replace_variants(uow, shop_id, row, [], new.variants)
    session.flush()
    for (_, _, changed), (row, outcome) in zip(plans, results, strict=True):
        if outcome == "created":
            uow.collect(ProductCreated(shop_id=shop_id, product_id=row.id, sku=row.sku))
        elif outcome == "updated":
            uow.collect(
                ProductUpdated(
                    shop_id=shop_id, product_id=row.id, sku=row.sku, changed=tuple(changed)
                )
            )
    return results


def _columns(new: _Product) -> dict[str, object]:
    return {
        "sku": new.sku,
        "title": new.title,
        "category": new.category,
        "price": new.price,
        "tags": new.tags,
        "description": new.description,
        "on_sale": new.on_sale,
        "images": new.images,
    }


def _replace_variants(
    uow: UnitOfWork,
    shop_id: int,
    row: Product,
    old: Sequence[ProductVariant],
    new: Sequence[_Variant],
) -> None:
    """The product's variants become ``new``: matched by SKU, updated in place (so order
    lines keep pointing at them), added, or removed (order lines keep their SKU)."""
    session = uow.session
    by_sku = {variant.sku: variant for variant in old}
    wanted = {variant.sku for variant in new}
    for gone in old:
        if gone.sku not in wanted:
            session.delete(gone)
    for spec in new:
        variant = by_sku.get(spec.sku)
        if variant is None:
            session.add(
                ProductVariant(
                    shop_id=shop_id,
                    product_id=row.id,
                    sku=spec.sku,
                    size=spec.size,
                    colour=spec.colour,
                    price=spec.price,
                    stock=spec.stock,
                )
            )
            continue
        for name in ("size", "colour", "price", "stock"):
            if getattr(variant, name) != getattr(spec, name):
                setattr(variant, name, getattr(spec, name))
