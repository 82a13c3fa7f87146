"""Imports every area's models so that metadata (and Alembic) sees the whole schema."""
# ruff: noqa: F401

from .admin.models import AuditLog
from .auth.models import ApiToken, LoginSession, Role, SmsMessage, User, VerificationCode
from .cart.models import Cart, CartItem
from .catalog.models import (
    Batch,
    Category,
    CertificationType,
    ListingRevision,
    Product,
    ProductPhoto,
    ProductStatus,
    ProhibitedTerm,
    RevisionStatus,
    TermKind,
)
from .complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintResolution,
    ComplaintStatus,
    ResolutionKind,
)
from .coop.models import Cooperative, CooperativeStatus, Handover, HandoverLine, Specialty
from .dispatch.models import (
    Alert,
    AlertSeverity,
    Plan,
    PlanEvent,
    PlanStatus,
    PlanTrigger,
    Replenishment,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
    UnassignedOrder,
)
from .geo.models import Address, County, Terrain, Town, Village, Zone
from .inventory.models import Location, LocationKind, Stock, StockMovement
from .logistics.models import (
    ChangeSource,
    Driver,
    LogisticsParameter,
    ParameterChange,
    ParameterScope,
    Vehicle,
    VehicleKind,
    Warehouse,
    WindowClass,
)
from .orders.models import (
    Compensation,
    CompensationKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from .payments.models import Payment, PaymentCallback, PaymentStatus, Refund, RefundStatus
from .planning.models import PlanningRun, PlanningRunStatus, WindowMiss
from .reports.models import StatisticsReport
from .scheduler_models import JobOutcome, JobRun

__all__ = [name for name in dir() if name[0].isupper()]
