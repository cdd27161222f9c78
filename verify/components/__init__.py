"""The components verify ships; each module registers one (see verify.registry)."""

from __future__ import annotations

from verify.components.alarms import COMPONENT as ALARMS
from verify.components.alb import COMPONENT as ALB
from verify.components.api import COMPONENT as API
from verify.components.db import COMPONENT as DB
from verify.components.ecs import COMPONENT as ECS
from verify.components.frontends import COMPONENT as FRONTENDS
from verify.components.queues import COMPONENT as QUEUES
from verify.components.rds import COMPONENT as RDS
from verify.components.redis import COMPONENT as REDIS
from verify.components.secrets import COMPONENT as SECRETS

BUILTIN = (API, ALB, ECS, ALARMS, SECRETS, REDIS, QUEUES, FRONTENDS, RDS, DB)
