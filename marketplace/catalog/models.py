"""The catalog: categories, products and their batches."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # waiting for operator approval
    ACTIVE = "active"
    REVIEW = "review"  # taken off sale pending a quality review
    DELISTED = "delisted"


class CertificationType(enum.StrEnum):
    NONE = "none"
    GREEN_FOOD = "green_food"  # 绿色食品
    ORGANIC = "organic"  # 有机产品
    GEO_INDICATION = "geo_indication"  # 地理标志产品
    SC_LICENCE = "sc_licence"  # SC 食品生产许可


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(48), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    icon: Mapped[str] = mapped_column(sa.String(16), default="")
    sort: Mapped[int] = mapped_column(default=0)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("price_fen >= 0", name="price_nonnegative"),
        sa.CheckConstraint("weight_g > 0", name="weight_positive"),
        sa.CheckConstraint("volume_cm3 > 0", name="volume_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(32), unique=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperatives.id"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(128))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    unit_zh: Mapped[str] = mapped_column(sa.String(32))
    unit_en: Mapped[str] = mapped_column(sa.String(64))
    price_fen: Mapped[int]
    weight_g: Mapped[int]
    volume_cm3: Mapped[int]
    shelf_life_days: Mapped[int | None]
    certification_type: Mapped[CertificationType] = mapped_column(
        str_enum(CertificationType), default=CertificationType.NONE
    )
    certification_no: Mapped[str] = mapped_column(sa.String(48), default="")
    handling_flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus), default=ProductStatus.DRAFT, index=True
    )
    featured: Mapped[bool] = mapped_column(default=False)
    image: Mapped[str] = mapped_column(sa.String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cooperative = relationship("Cooperative", back_populates="products")
    category = relationship(Category)
    batches = relationship("Batch", back_populates="product", order_by="Batch.production_date")


class Batch(TimestampMixin, db.Model):
    """A production batch: where and when the goods were made (traceability)."""

    __tablename__ = "batches"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="quantity_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    production_date: Mapped[date]
    origin_village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    quantity: Mapped[int]

    product = relationship(Product, back_populates="batches")
    origin_village = relationship("Village")


class ProductSearchTerm(db.Model):
    """A portable inverted index for substring search in Chinese and English.

    Each product's names and descriptions are cut into n-grams (CJK: single characters and
    bigrams; Latin words: trigrams) kept in a B-tree index that SQLite and PostgreSQL serve
    alike; a query needs all its n-grams, and candidates are then confirmed with LIKE.
    """

    __tablename__ = "product_search_terms"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(16), primary_key=True)

    __table_args__ = (sa.Index("ix_product_search_terms_term", "term", "product_id"),)
