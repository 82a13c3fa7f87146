"""The catalog: categories, products and their batches."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

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
    # The certificate's scan (an upload id, see marketplace/uploads.py); "" when none.
    certificate_file: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cooperative = relationship("Cooperative", back_populates="products")
    category = relationship(Category)
    batches = relationship("Batch", back_populates="product", order_by="Batch.production_date")
    photos = relationship("ProductPhoto", back_populates="product", order_by="ProductPhoto.position",
                          cascade="all, delete-orphan")


class ProductPhoto(db.Model):
    """A photo of a product: an upload id (marketplace/uploads.py, re-encoded web sizes), in order."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product = relationship(Product, back_populates="photos")


class RevisionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the operator
    APPROVED = "approved"  # applied to the product
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by a newer revision or taken back by the cooperative


class ListingRevision(TimestampMixin, db.Model):
    """A new listing, or a material change of one (price, certification, names), waiting for the
    operator. The product row keeps the last approved values (what the shop sells) until the
    revision is approved; ``changes`` holds the proposed field values; ``holds`` what the fraud
    and prohibited-goods rules found ([{"rule": ..., "detail": ...}]), shown to the reviewer."""

    __tablename__ = "listing_revisions"
    __table_args__ = (
        # at most one pending revision per product
        sa.Index("uq_listing_revisions_pending_product", "product_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    is_new: Mapped[bool] = mapped_column(default=False)  # the product was never sold yet
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    holds: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    status: Mapped[RevisionStatus] = mapped_column(str_enum(RevisionStatus), default=RevisionStatus.PENDING,
                                                   index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    product = relationship(Product)


class TermKind(enum.StrEnum):
    PROHIBITED = "prohibited"  # may never be sold (wild-animal products…)
    RESTRICTED = "restricted"  # needs a certificate or a reviewer's judgement (medicinal claims…)


class ProhibitedTerm(TimestampMixin, db.Model):
    """The county demonstration rules' list of prohibited and restricted terms, kept by operators.
    A listing whose names or descriptions contain an active term is held for review."""

    __tablename__ = "prohibited_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[TermKind] = mapped_column(str_enum(TermKind), default=TermKind.PROHIBITED)
    category: Mapped[str] = mapped_column(sa.String(32), default="other")  # wildlife, medicinal_claim…
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


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
